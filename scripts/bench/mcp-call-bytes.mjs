// Starts an MCP server over stdio, calls one tool and counts the bytes of its answers: the whole
// JSON-RPC response line as the client receives it. With --follow, it calls again with the answer's
// structuredContent.next_page_token until there is none (every page of a paged listing).
//   node scripts/bench/mcp-call-bytes.mjs [--follow] <tool> <arguments-json> -- <command> [args...]
// Prints one JSON line: {"tool", "calls", "first_bytes", "total_bytes", "rows", "truncated", "is_error"}.
// rows: structuredContent.rows (ours) summed over the pages; null when the answer has no rows array.
// With --count TEXT, "count" is how often TEXT occurs in the answers (e.g. pod names in the peer's table).
import { spawn } from "node:child_process";

let argv = process.argv.slice(2);
let follow = false, countText = null;
while (argv[0] === "--follow" || argv[0] === "--count") {
  if (argv[0] === "--follow") { follow = true; argv = argv.slice(1); }
  else { countText = argv[1]; argv = argv.slice(2); }
}
const sep = argv.indexOf("--");
if (sep < 2) {
  console.error("usage: mcp-call-bytes.mjs [--follow] <tool> <arguments-json> -- <command> [args...]");
  process.exit(2);
}
const [tool, argsJson] = argv;
const [cmd, ...cmdArgs] = argv.slice(sep + 1);
const child = spawn(cmd, cmdArgs, { stdio: ["pipe", "pipe", "ignore"] });
let buffer = "";
const waiting = new Map();
child.stdout.setEncoding("utf8");
child.stdout.on("data", (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf("\n")) >= 0) {
    const line = buffer.slice(0, nl).trim();
    buffer = buffer.slice(nl + 1);
    if (!line) continue;
    const msg = JSON.parse(line);
    if (msg.id !== undefined && waiting.has(msg.id)) {
      waiting.get(msg.id)({ msg, bytes: Buffer.byteLength(line, "utf8") });
      waiting.delete(msg.id);
    }
  }
});
const timer = setTimeout(() => { console.error("timed out"); child.kill("SIGKILL"); process.exit(1); }, 120000);
let nextId = 1;
function request(method, params) {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
  });
}
const init = await request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench-probe", version: "1.0" } });
if (init.msg.error) { console.error(JSON.stringify(init.msg.error)); process.exit(1); }
child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
const args = JSON.parse(argsJson);
let calls = 0, total = 0, first = null, rows = null, truncated = false, isError = false, count = 0;
for (;;) {
  const { msg, bytes } = await request("tools/call", { name: tool, arguments: args });
  calls++;
  total += bytes;
  if (countText) {
    const text = (msg.result?.content ?? []).map((c) => c.text ?? "").join("\n");
    count += text.split(countText).length - 1;
  }
  first ??= bytes;
  const result = msg.result ?? {};
  isError ||= Boolean(result.isError || msg.error);
  const sc = result.structuredContent;
  if (sc && Array.isArray(sc.rows)) rows = (rows ?? 0) + sc.rows.length;
  if (sc && sc.truncated) truncated = true;
  const next = sc?.next_page_token;
  if (!follow || !next || calls >= 1000) break;
  args.page_token = next;
}
clearTimeout(timer);
child.stdin.end();
child.kill("SIGTERM");
console.log(JSON.stringify({ tool, calls, first_bytes: first, total_bytes: total, rows, truncated, is_error: isError, ...(countText ? { count } : {}) }));
process.exit(0);
