/**
 * The script-tag bundle (`dist/embed/fenliu-chat.js`): React included, registers `<fenliu-chat>`.
 *
 * @example
 * <script type="module" src="https://shop.example/embed/fenliu-chat.js"></script>
 * <fenliu-chat model="/models/fenliu-demo/" lang="en"></fenliu-chat>
 */
import { defineFenliuChat } from './element';

defineFenliuChat();

export { defineFenliuChat, FenliuChatElement } from './element';
