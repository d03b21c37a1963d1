/**
 * Entry point of the `fenliu` command (`bin/fenliu.js` runs it through tsx).
 *
 *   npx fenliu classify "取消我的订阅"
 *   npx fenliu eval --model public/models/fenliu-demo --data data/demo/test.jsonl
 *   npx fenliu calibrate --model public/models/fenliu-demo --data valid.jsonl --write
 */
import { processEnvironment } from './context';
import { main } from './main';

const controller = new AbortController();
// First Ctrl-C stops classification between batches; a second one exits at once.
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});
process.exitCode = await main(process.argv.slice(2), processEnvironment(controller.signal));
