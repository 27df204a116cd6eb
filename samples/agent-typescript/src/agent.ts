// A custom agent over MCP with the official TypeScript SDK: discover, simulate, ask for approval,
// execute, follow the operation, read the audit trail. Run it against
// `runtimeai serve --transport http --sandbox --api-keys --autonomy copilot`:
//
//   npm ci && npm run build
//   RUNTIMEAI_TOKEN=rtk_... node dist/agent.js --url http://127.0.0.1:7070/mcp --runtime dev --action stop
//
// Exit codes: 0 done; 1 refused or failed; 2 bad usage; 3 the approval was rejected, expired or not given in time.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

type Json = Record<string, any>;

interface Options {
  url: string;
  token?: string;
  runtime: string;
  action: "start" | "stop" | "restart";
  reasoning: string;
  approvalTimeoutSeconds: number;
}

function parse(argv: string[]): Options | undefined {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
  };
  const url = value("--url") ?? process.env.RUNTIMEAI_URL;
  const runtime = value("--runtime");
  const action = value("--action");
  if (!url || !runtime || (action !== "start" && action !== "stop" && action !== "restart")) {
    return undefined;
  }
  const timeout = Number.parseInt(value("--approval-timeout") ?? "300", 10);
  return {
    url,
    token: process.env.RUNTIMEAI_TOKEN,
    runtime,
    action,
    reasoning: value("--reasoning") ?? `${action} ${runtime} (agent sample)`,
    approvalTimeoutSeconds: Number.isFinite(timeout) ? timeout : 300,
  };
}

const say = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  if (!options) {
    console.error(
      "usage: node dist/agent.js --url URL --runtime NAME --action start|stop|restart [--reasoning TEXT] [--approval-timeout SECONDS]  (token in RUNTIMEAI_TOKEN)",
    );
    return 2;
  }

  // The API key travels as a bearer token on every request of the session.
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : undefined,
  });
  const client = new Client({ name: "runtimeai-agent-typescript-sample", version: "0.1.0" });
  await client.connect(transport);
  try {
    return await run(client, options);
  } finally {
    await client.close();
  }
}

async function run(client: Client, options: Options): Promise<number> {
  const call = async (name: string, args: Json, allowError = false): Promise<Json> => {
    const result = await client.callTool({ name, arguments: args });
    const text = ((result.content as Json[] | undefined) ?? [])
      .filter((c) => c.type === "text")
      .map((c) => c.text as string)
      .join(" ");
    if (result.isError && !allowError) {
      throw new Error(`${name}: ${text}`);
    }
    return (result.structuredContent as Json | undefined) ?? { error: text };
  };

  // 1. Discover: the tools this caller may use, and the runtime by name.
  const tool = `${options.action}_runtime`;
  const { tools } = await client.listTools();
  const mutating = tools.filter((t) => t.annotations?.readOnlyHint !== true).length;
  say(`discovered ${tools.length} tools (${mutating} can change something)`);
  if (!tools.some((t) => t.name === tool)) {
    // advisor, the default level, hides the execute tier: the server must run at copilot or above.
    say(`${tool} is not offered to this caller; ask for the server's autonomy level and your key's role`);
    return 1;
  }
  const runtimes = await call("list_runtimes", { page_size: 200 });
  const runtime = (runtimes.items as Json[]).find((r) => r.name === options.runtime);
  if (!runtime) {
    say(`no runtime named '${options.runtime}' is visible to this caller`);
    return 1;
  }
  const runtimeId = runtime.id as string;
  say(`runtime ${options.runtime} = ${runtimeId} (${runtime.state})`);

  // 2. Simulate: what would happen, and what the governance would decide, before asking anyone.
  const simulation = await call("simulate_action", {
    runtime_id: runtimeId,
    action: { type: options.action },
    reasoning: options.reasoning,
  });
  say(`simulation: ${simulation.verdict}`);

  // 3. Follow the runtime: resources/subscribe on this session; updates arrive as notifications.
  const updates: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
    updates.push(notification.params.uri);
  });
  await client.subscribeResource({ uri: `runtime://${runtimeId}` });
  say(`subscribed to runtime://${runtimeId}`);

  // 4. Execute: a gated call either runs, is refused, or becomes a proposal a human must approve.
  const args: Json = { runtime_id: runtimeId, reasoning: options.reasoning };
  let result = await call(tool, args, true);
  if (result.status === "pending_approval") {
    const proposalId = result.proposal_id as string;
    say(`pending approval: ${proposalId} via ${result.approval_channel}; a human runs: runtimeai approve ${proposalId}`);
    const decided = await waitForDecision(call, proposalId, options.approvalTimeoutSeconds);
    if (decided !== "approved") {
      say(`proposal ${proposalId} is ${decided}; nothing was changed`);
      return 3;
    }
    say(`proposal ${proposalId} approved; repeating the call with it`);
    result = await call(tool, { ...args, proposal_id: proposalId }, true);
  }

  if (typeof result.operation_id !== "string") {
    say(`${tool} did not run: ${JSON.stringify(result)}`);
    return 1;
  }

  // 5. Follow the operation to its end, then wait for the runtime's update notification.
  const operationId = result.operation_id;
  let operation = await call("get_operation", { operation_id: operationId });
  for (let i = 0; i < 300 && (operation.status === "queued" || operation.status === "running"); i++) {
    await sleep(200);
    operation = await call("get_operation", { operation_id: operationId });
  }
  say(`operation ${operationId} ${operation.status}`);
  for (let i = 0; i < 100 && updates.length === 0; i++) {
    await sleep(100);
  }
  await client.unsubscribeResource({ uri: `runtime://${runtimeId}` });

  const read = await client.readResource({ uri: `runtime://${runtimeId}` });
  const first = read.contents[0];
  const state = "text" in first ? (JSON.parse(first.text) as Json).state : "unknown";
  say(`runtime ${runtimeId} updated (${updates.length} notification(s)); state now ${state}`);

  // 6. The audit trail: every call of this session is on record, with the agent's reasoning.
  const trail = await call("get_audit_trail", { runtime_id: runtimeId, page_size: 20 });
  for (const record of trail.items as Json[]) {
    say(`audit: ${record.ts} ${record.tool} ${record.outcome}`);
  }

  return operation.status === "succeeded" ? 0 : 1;
}

async function waitForDecision(
  call: (name: string, args: Json) => Promise<Json>,
  proposalId: string,
  timeoutSeconds: number,
): Promise<string> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    const proposal = await call("get_proposal", { proposal_id: proposalId });
    if (proposal.status !== "pending") {
      return proposal.status as string;
    }
    await sleep(1000);
  }
  return "not decided in time";
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`agent: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
