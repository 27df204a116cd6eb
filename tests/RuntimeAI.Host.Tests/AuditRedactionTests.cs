using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Host.Tests;

/// <summary>
/// Planted secrets sent to the real server over stdio never come back out: not in tool results,
/// not in errors, not in the server's log (at debug level), not in either audit export, not in
/// get_audit_trail — while the trail still verifies.
/// </summary>
public sealed class AuditRedactionTests
{
    private const string Password = "Pl4nted-Passw0rd-7731";
    private const string GitHubToken = "ghp_PlantedTokenAbcdefghijklmnopqrstuvwxyz0123";
    private const string PemBody = "MIIEpAIBAAKCAQEAplantedPemBody0123456789";
    private const string ClientKeyData = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tplantedKubeKey";
    private const string KubeToken = "planted-kube-bearer-token-998877";

    private static readonly string[] s_planted = [Password, GitHubToken, PemBody, ClientKeyData, KubeToken];

    private static readonly string s_kubeconfig = $"""
        apiVersion: v1
        kind: Config
        users:
          - name: admin
            user:
              client-key-data: {ClientKeyData}
              token: {KubeToken}
        """;

    private static readonly string s_pem = $"-----BEGIN RSA PRIVATE KEY-----\n{PemBody}\n-----END RSA PRIVATE KEY-----";

    private static void AssertClean(string where, string text)
    {
        foreach (var secret in s_planted)
        {
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} contains the planted secret '{secret}':\n{text}");
        }
    }

    private static string Dump(CallToolResult result) =>
        JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult)));

    [Fact]
    public async Task PlantedSecrets_NeverInOutputLogsAuditExportOrTrail()
    {
        var dataDir = TestPaths.NewDataDir();
        var stderr = new List<string>();
        var outputs = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = TestPaths.Executable,
            Arguments = ["serve", "--data-dir", dataDir, "--log-level", "debug"],
            Name = "runtimeai",
            StandardErrorLines = line =>
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
            },
        });
        await using (var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken))
        {
            // A secret-named filter value, and a PEM and a token in the reasoning (untrusted text).
            outputs.Add(Dump(await client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["labels"] = new Dictionary<string, string> { ["db_password"] = Password } }, cancellationToken: TestContext.Current.CancellationToken)));
            outputs.Add(Dump(await client.CallToolAsync("get_events", new Dictionary<string, object?> { ["reasoning"] = $"rotating keys: {s_pem} and {GitHubToken}" }, cancellationToken: TestContext.Current.CancellationToken)));
            outputs.Add(Dump(await client.CallToolAsync(new CallToolRequestParams
            {
                Name = "list_runtimes",
                Arguments = new Dictionary<string, JsonElement>(),
                Meta = new System.Text.Json.Nodes.JsonObject { ["io.runtimeai/reasoning"] = $"with Authorization: Bearer {KubeToken}" },
            }, TestContext.Current.CancellationToken)));

            // Pasted credentials in arguments the schema refuses: the error names the property, not the value.
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("list_runtimes", new Dictionary<string, object?> { ["kubeconfig"] = s_kubeconfig, ["password"] = Password, ["api_token"] = GitHubToken }, cancellationToken: TestContext.Current.CancellationToken).AsTask());
            outputs.Add(refused.Message);
            Assert.Contains("/kubeconfig", refused.Message, StringComparison.Ordinal);

            var trail = await client.CallToolAsync("get_audit_trail", new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(4, trail.StructuredContent!.Value.GetProperty("items").GetArrayLength());
            outputs.Add(Dump(trail));
        }

        var (jsonCode, json, jsonErr) = await ServerProcess.RunAsync("audit", "export", "--format", "json", "--data-dir", dataDir);
        var (csvCode, csv, csvErr) = await ServerProcess.RunAsync("audit", "export", "--format", "csv", "--data-dir", dataDir);
        var (verifyCode, verify, verifyErr) = await ServerProcess.RunAsync("audit", "verify", "--data-dir", dataDir);

        Assert.True(jsonCode == 0, jsonErr);
        Assert.True(csvCode == 0, csvErr);
        Assert.True(verifyCode == 0, verifyErr);
        Assert.Contains("audit chain intact: 5 records", verify, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", json, StringComparison.Ordinal);
        foreach (var (where, text) in outputs.Select((o, i) => ($"tool output {i}", o)))
        {
            AssertClean(where, text);
        }

        // Redacted at write time: the store's own bytes (database and WAL) hold none of them either.
        foreach (var file in Directory.GetFiles(dataDir, "runtimeai.db*"))
        {
            var bytes = System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken));
            foreach (var secret in s_planted)
            {
                Assert.False(bytes.Contains(secret, StringComparison.Ordinal), $"{Path.GetFileName(file)} holds the planted secret '{secret}'");
            }
        }

        AssertClean("json export", json + jsonErr);
        AssertClean("csv export", csv + csvErr);
        lock (stderr)
        {
            Assert.NotEmpty(stderr);
            AssertClean("server stderr", string.Join('\n', stderr));
        }
    }
}
