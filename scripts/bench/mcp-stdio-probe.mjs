// Starts an MCP server over stdio, times process start -> initialize answer, then asks tools/list
// and reports its size and the server's resident memory (VmRSS) after answering it.
//   node scripts/bench/mcp-stdio-probe.mjs <command> [args...]
// Prints one JSON line: {"init_ms", "tools", "tools_list_bytes", "bytes_per_tool", "rss_kib"}.
// tools_list_bytes counts the tools array as compact JSON (the part a client puts in the model's context).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error("usage: mcp-stdio-probe.mjs <command> [args...]");
  process.exit(2);
}
const started = process.hrtime.bigint();
const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "ignore"] });
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
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  }
});
const timer = setTimeout(() => { console.error("timed out"); child.kill("SIGKILL"); process.exit(1); }, 60000);
let nextId = 1;
function request(method, params) {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
  });
}
const init = await request("initialize", {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "bench-probe", version: "1.0" },
});
const initMs = Number(process.hrtime.bigint() - started) / 1e6;
if (init.error) { console.error(JSON.stringify(init.error)); process.exit(1); }
child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
const list = await request("tools/list", {});
const tools = list.result.tools;
const bytes = Buffer.byteLength(JSON.stringify(tools), "utf8");
let rss = null;
try {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
  rss = m ? Number(m[1]) : null;
} catch { rss = null; }
const instructions = init.result.instructions ?? "";
clearTimeout(timer);
child.stdin.end();
child.kill("SIGTERM");
console.log(JSON.stringify({
  init_ms: Math.round(initMs * 10) / 10,
  tools: tools.length,
  tools_list_bytes: bytes,
  bytes_per_tool: Math.round(bytes / tools.length),
  instructions_bytes: Buffer.byteLength(instructions, "utf8"),
  rss_kib: rss,
}));
process.exit(0);
