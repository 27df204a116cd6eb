using System.Diagnostics;
using System.Text;

namespace RuntimeAI.Host.Tests;

/// <summary>The real <c>runtimeai</c> executable run as a child process, with its stderr captured.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public Uri? McpEndpoint { get; private set; }

    /// <summary>The server's process id.</summary>
    public int Id => _process.Id;

    /// <summary>Waits until the process has exited (it may kill itself at a test failpoint).</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>True once the server process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL, as a power loss would: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts <c>runtimeai serve --transport http --urls http://127.0.0.1:0</c> and waits for its URL.</summary>
    public static Task<ServerProcess> StartHttpAsync(string dataDir, params string[] extra) =>
        StartHttpAsync(dataDir, new Dictionary<string, string?>(), extra);

    /// <summary>As <see cref="StartHttpAsync(string, string[])"/>, with extra environment variables for the server (null removes one).</summary>
    public static async Task<ServerProcess> StartHttpAsync(string dataDir, IReadOnlyDictionary<string, string?> environment, params string[] extra)
    {
        string[] urls = extra.Contains("--urls") ? [] : ["--urls", "http://127.0.0.1:0"];
        var server = Start(["serve", "--transport", "http", .. urls, "--data-dir", dataDir, .. extra], environment);
        var finished = await Task.WhenAny(server._url.Task, server._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (finished != server._url.Task)
        {
            throw new InvalidOperationException($"server did not report its URL; stderr:\n{server.Stderr}");
        }

        server.McpEndpoint = new Uri(await server._url.Task);
        return server;
    }

    /// <summary>Runs a CLI command to completion.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        await using var p = Start(args);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await p._process.WaitForExitAsync(cts.Token);
        p._process.WaitForExit();
        return (p._process.ExitCode, p.Stdout, p.Stderr);
    }

    private static ServerProcess Start(string[] args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(TestPaths.Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("RUNTIMEAI_CONFIG");
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (server._stderr)
            {
                server._stderr.AppendLine(e.Data);
            }

            var marker = "listening on ";
            var at = e.Data.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                server._url.TrySetResult(e.Data[(at + marker.Length)..].Split(' ')[0]);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (server._stdout)
                {
                    server._stdout.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
