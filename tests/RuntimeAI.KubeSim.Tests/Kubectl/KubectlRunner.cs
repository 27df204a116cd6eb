using System.Diagnostics;
using System.Text;

namespace RuntimeAI.KubeSim.Tests.Kubectl;

/// <summary>
/// Runs the real kubectl binary as a child process against an in-process simulator, with its own kubeconfig and
/// HOME (so the discovery cache is private), and logs every command and what was checked to the test output.
/// </summary>
internal sealed class KubectlRunner : IDisposable
{
    private readonly string _dir;
    private readonly string _kubeconfig;
    private readonly ITestOutputHelper _output;

    public KubectlRunner(string kubeconfigYaml, ITestOutputHelper output)
    {
        _output = output;
        _dir = Directory.CreateTempSubdirectory("kubesim-kubectl-").FullName;
        _kubeconfig = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(_kubeconfig, kubeconfigYaml);
        Executable = Find() ?? throw new InvalidOperationException(
            "kubectl is not on PATH. The kubectl tier needs it: on Debian/Ubuntu install the 'kubectl' package from the Kubernetes apt repository (pkgs.k8s.io), or run scripts/kubectl-tier.sh, which downloads it when missing.");
    }

    public string Executable { get; }

    public string Directory_ => _dir;

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':'))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public void Log(string message) => _output.WriteLine(message);

    private ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["KUBECONFIG"] = _kubeconfig;
        psi.Environment["HOME"] = _dir;
        psi.Environment["KUBECTL_COMMAND_HEADERS"] = "false";
        psi.Environment["NO_COLOR"] = "1";
        return psi;
    }

    public async Task<KubectlResult> RunAsync(string commandLine, string? stdin = null, int timeoutSeconds = 60)
    {
        var args = Split(commandLine);
        using var process = Process.Start(StartInfo(args))!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {commandLine} did not finish in {timeoutSeconds}s");
        }

        var result = new KubectlResult(process.ExitCode, await stdout, await stderr);
        _output.WriteLine($"$ kubectl {commandLine}   (exit {result.ExitCode})");
        foreach (var line in (result.Stdout + result.Stderr).TrimEnd().Split('\n').Take(25))
        {
            _output.WriteLine("    " + line);
        }

        return result;
    }

    public async Task<KubectlResult> RunOkAsync(string commandLine, string? stdin = null)
    {
        var r = await RunAsync(commandLine, stdin);
        Assert.True(r.ExitCode == 0, $"kubectl {commandLine} exited {r.ExitCode}: {r.Stderr}{r.Stdout}");
        return r;
    }

    /// <summary>Starts a long-running kubectl (e.g. <c>get -w</c>) whose output is collected until it is stopped.</summary>
    public StreamingKubectl Start(string commandLine)
    {
        var process = Process.Start(StartInfo(Split(commandLine)))!;
        process.StandardInput.Close();
        _output.WriteLine($"$ kubectl {commandLine} &");
        return new StreamingKubectl(process, _output);
    }

    private static List<string> Split(string commandLine)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        foreach (var c in commandLine)
        {
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == ' ')
            {
                if (current.Length > 0)
                {
                    args.Add(current.ToString());
                    current.Clear();
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            args.Add(current.ToString());
        }

        return args;
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }
}

internal sealed record KubectlResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] Lines => Stdout.TrimEnd().Split('\n');

    /// <summary>Splits a kubectl table line on runs of spaces.</summary>
    public static string[] Columns(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

internal sealed class StreamingKubectl : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ITestOutputHelper _output;
    private readonly StringBuilder _stdout = new();
    private readonly Task _pump;

    public StreamingKubectl(Process process, ITestOutputHelper output)
    {
        _process = process;
        _output = output;
        _pump = Task.Run(async () =>
        {
            var buffer = new char[1024];
            int n;
            while ((n = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (_stdout)
                {
                    _stdout.Append(buffer, 0, n);
                }
            }
        });
    }

    public string Output
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Waits until the output satisfies <paramref name="condition"/> (or fails after a timeout).</summary>
    public async Task WaitForAsync(Func<string, bool> condition, string what, int timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition(Output))
        {
            if (DateTime.UtcNow > deadline || _process.HasExited && !condition(Output))
            {
                var err = _process.HasExited ? await _process.StandardError.ReadToEndAsync() : string.Empty;
                Assert.Fail($"kubectl output never showed {what}. Output so far:\n{Output}\n{err}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        await _pump;
        foreach (var line in Output.TrimEnd().Split('\n').Take(25))
        {
            _output.WriteLine("    " + line);
        }

        _process.Dispose();
    }
}
