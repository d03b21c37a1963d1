// The host script of examples/csp/index.html: a file, because the page's policy refuses inline
// scripts. It creates the widget, passes the catalog object and supplies the tools' `execute`.
//
// URL switches: ?device=wasm|webgpu, ?lang=zh|en, ?theme=light|dark, ?persist=KEY (keep the
// conversation in IndexedDB under KEY).
const params = new URLSearchParams(location.search);
const catalog = await (await fetch('/catalog.json')).json();
const chat = document.createElement('fenliu-chat');
chat.setAttribute('model', '/models/fenliu-demo/');
chat.setAttribute('lang', params.get('lang') ?? 'zh');
chat.setAttribute('theme', params.get('theme') ?? 'light');
if (params.get('device')) chat.setAttribute('device', params.get('device'));
if (params.get('persist')) chat.setAttribute('persist', params.get('persist'));
// No Cache Storage copies: transformers.js would import its copy of onnxruntime's loader from a
// blob: URL, which this page's policy (sent as a header, it governs the worker too) refuses.
chat.setAttribute('browser-cache', 'off');
chat.catalog = catalog;

// A tiny in-page order book stands in for the shop's own API.
const orders = new Map([
  [
    '2024113012345',
    { status: '已发货', items: '无线耳机 ×1', amount: 299, placed_at: '2024-11-20' },
  ],
]);
const find = (order_id) => {
  const order = orders.get(order_id);
  if (!order) throw new Error(`没有找到订单 ${order_id}。`);
  return order;
};
const unsupported = (name) => async () => {
  throw new Error(`${name} is not connected on this example page.`);
};
chat.tools = {
  lookup_order: async ({ order_id }) => ({ order_id, ...find(order_id) }),
  track_shipment: unsupported('track_shipment'),
  change_address: async ({ order_id, address }) => {
    const order = find(order_id);
    const previous_address = order.address ?? '';
    order.address = address;
    return { order_id, address, previous_address };
  },
  request_refund: unsupported('request_refund'),
  request_invoice: unsupported('request_invoice'),
  cancel_service: unsupported('cancel_service'),
};
// The handlers the catalog's route table names (agents answering from their route's knowledge,
// the service desk that takes complaints).
const firstLine = ({ knowledge }) => knowledge.split('\n')[0] ?? '';
chat.handlers = {
  billing: { kind: 'agent', respond: async (request) => firstLine(request) },
  accounts: { kind: 'agent', respond: async (request) => firstLine(request) },
  service_desk: { kind: 'human', onHandoff: async () => ({}) },
};
chat.onescalate = ({ text, classification }) => log(`escalate: ${text} (${classification.label})`);
chat.addEventListener('fenliu-status', (event) => {
  if (event.detail.state === 'ready' || event.detail.state === 'error') {
    log(`status: ${event.detail.state}`);
  }
});
document.getElementById('slot').append(chat);

function log(text) {
  const item = document.createElement('li');
  // NOTE: textContent, never innerHTML: the text holds what the user typed.
  item.textContent = text;
  document.getElementById('events').append(item);
}
