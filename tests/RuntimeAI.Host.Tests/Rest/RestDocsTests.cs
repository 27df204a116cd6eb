using System.Diagnostics;
using System.Text;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>docs/api.md's curl examples, run as written with the real curl against the real server.</summary>
public sealed class RestDocsTests(RestServer server) : IClassFixture<RestServer>
{
    [Fact]
    public async Task ApiDoc_EveryCurlExample_RunsAsWritten()
    {
        if (!File.Exists("/usr/bin/curl") || !File.Exists("/usr/bin/jq"))
        {
            Assert.Skip("the docs' examples need curl and jq in /usr/bin");
        }

        var doc = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "docs", "api.md"), TestContext.Current.CancellationToken);
        var blocks = doc.Split("```bash\n").Skip(1).Select(b => b[..b.IndexOf("```", StringComparison.Ordinal)]).ToList();
        Assert.True(blocks.Count >= 7, $"docs/api.md has {blocks.Count} bash blocks");
        Assert.All(RestPaths.All("RT", "OP", "PRP", "INT", "P").Where(p => p.Path != "/no-such-path"),
            p => Assert.Contains(p.Path.Replace("RT", "$RT", StringComparison.Ordinal).Split('/')[1], doc, StringComparison.Ordinal));

        // One shell, the blocks in order (later ones use the ids earlier ones captured); any failing command fails it.
        var script = new StringBuilder("set -euo pipefail\n");
        foreach (var block in blocks)
        {
            script.Append(block).Append('\n');
        }

        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["RUNTIMEAI"] = server.Base.ToString().TrimEnd('/');
        start.Environment["TOKEN"] = server.Operator;
        start.Environment["APPROVER_TOKEN"] = server.Approver;
        start.Environment["ADMIN_TOKEN"] = server.Admin;
        using var bash = Process.Start(start)!;
        await bash.StandardInput.WriteAsync(script.ToString());
        bash.StandardInput.Close();
        var stdout = bash.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = bash.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await bash.WaitForExitAsync(TestContext.Current.CancellationToken);
        var output = await stdout;

        Assert.True(bash.ExitCode == 0, $"exit {bash.ExitCode}\nstdout:\n{output}\nstderr:\n{await stderr}");
        var lines = output.Split('\n');
        Assert.Contains("401", lines);
        Assert.Contains("approved", lines);
        Assert.Contains("executed", lines);
        Assert.Contains("204", lines);
        Assert.Contains("docs-freeze", lines);
    }
}
