using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Controllers;

/// <summary>
/// Synthetic container logs: a start-up banner, then one line every few seconds of simulated time, in a style that
/// fits the image (nginx access log, redis, postgres, a generic JSON app log). Deterministic per pod and container.
/// </summary>
internal static class PodLogs
{
    private static readonly TimeSpan s_lineEvery = TimeSpan.FromSeconds(5);

    public static async Task WriteAsync(HttpContext ctx, SimulatedApi api, JsonObject pod)
    {
        var name = Json.Name(pod);
        var containers = Quotas.Containers(pod).Select(c => Json.Str(c, "name")!).ToList();
        var container = ctx.Request.Query["container"].ToString();
        if (string.IsNullOrEmpty(container))
        {
            container = Json.Str(pod, "metadata", "annotations", "kubectl.kubernetes.io/default-container") ?? string.Empty;
        }

        if (string.IsNullOrEmpty(container))
        {
            if (containers.Count != 1)
            {
                throw KubeApiException.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', containers)}]");
            }

            container = containers[0];
        }

        if (!containers.Contains(container))
        {
            throw KubeApiException.BadRequest($"container {container} is not valid for pod {name}");
        }

        if (ctx.Request.Query["previous"].ToString() is "true" or "1")
        {
            throw KubeApiException.BadRequest($"previous terminated container \"{container}\" in pod \"{name}\" not found");
        }

        var containerStatus = (Json.At(pod, "status", "containerStatuses") as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => Json.Str(c, "name") == container);
        var started = Json.ParseTime(Json.Str(containerStatus, "state", "running", "startedAt") ?? Json.Str(pod, "status", "startTime"));
        if (Json.Str(pod, "status", "phase") != "Running" || started is null)
        {
            throw KubeApiException.BadRequest($"container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating");
        }

        var image = Json.Str(Quotas.Containers(pod).First(c => Json.Str(c, "name") == container), "image") ?? string.Empty;
        var timestamps = ctx.Request.Query["timestamps"].ToString() is "true" or "1";
        var lines = Lines(api, name, container, image, started.Value, api.Now);
        if (long.TryParse(ctx.Request.Query["sinceSeconds"], CultureInfo.InvariantCulture, out var since))
        {
            var cutoff = api.Now - TimeSpan.FromSeconds(since);
            lines = lines.Where(l => l.At >= cutoff).ToList();
        }

        if (int.TryParse(ctx.Request.Query["tailLines"], CultureInfo.InvariantCulture, out var tail) && tail >= 0)
        {
            lines = lines.Skip(Math.Max(0, lines.Count - tail)).ToList();
        }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        var sb = new StringBuilder();
        foreach (var (at, text) in lines)
        {
            sb.Append(Format(at, text, timestamps));
        }

        if (long.TryParse(ctx.Request.Query["limitBytes"], CultureInfo.InvariantCulture, out var limitBytes) && limitBytes >= 0 && sb.Length > limitBytes)
        {
            sb.Length = (int)limitBytes;
        }

        await ctx.Response.WriteAsync(sb.ToString(), ctx.RequestAborted).ConfigureAwait(false);
        if (ctx.Request.Query["follow"].ToString() is not ("true" or "1"))
        {
            return;
        }

        await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        var index = (int)((api.Now - started.Value).Ticks / s_lineEvery.Ticks);
        while (!ctx.RequestAborted.IsCancellationRequested)
        {
            await Task.Delay(s_lineEvery, api.Time, ctx.RequestAborted).ConfigureAwait(false);
            if (api.Store.Get(ResourceCatalog.Pods, Json.Namespace(pod), name) is null)
            {
                return;
            }

            index++;
            var at = started.Value + (s_lineEvery * index);
            await ctx.Response.WriteAsync(Format(at, Line(api, name, container, image, index, at), timestamps), ctx.RequestAborted).ConfigureAwait(false);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        }
    }

    private static string Format(DateTimeOffset at, string text, bool timestamps) =>
        timestamps ? $"{at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'} {text}\n" : text + "\n";

    public static List<(DateTimeOffset At, string Text)> Lines(SimulatedApi api, string pod, string container, string image, DateTimeOffset started, DateTimeOffset now)
    {
        var lines = Banner(image, container, started).Select((l, i) => (started + TimeSpan.FromMilliseconds(10 * i), l)).ToList();
        var count = (int)Math.Min(500, Math.Max(0, (now - started).Ticks / s_lineEvery.Ticks));
        for (var i = 1; i <= count; i++)
        {
            var at = started + (s_lineEvery * i);
            lines.Add((at, Line(api, pod, container, image, i, at)));
        }

        return lines;
    }

    private static string Kind(string image) =>
        image.Contains("nginx", StringComparison.OrdinalIgnoreCase) ? "nginx"
        : image.Contains("redis", StringComparison.OrdinalIgnoreCase) ? "redis"
        : image.Contains("postgres", StringComparison.OrdinalIgnoreCase) ? "postgres"
        : image.Contains("vcluster", StringComparison.OrdinalIgnoreCase) ? "vcluster"
        : "app";

    private static IEnumerable<string> Banner(string image, string container, DateTimeOffset t)
    {
        var stamp = t.UtcDateTime.ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture);
        return Kind(image) switch
        {
            "nginx" =>
            [
                "/docker-entrypoint.sh: Configuration complete; ready for start up",
                $"{stamp} [notice] 1#1: using the \"epoll\" event method",
                $"{stamp} [notice] 1#1: nginx/1.27.3",
                $"{stamp} [notice] 1#1: start worker processes",
            ],
            "redis" => ["1:C * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", "1:M * Server initialized", "1:M * Ready to accept connections tcp"],
            "postgres" => [$"{stamp} UTC [1] LOG:  starting PostgreSQL 16.4", $"{stamp} UTC [1] LOG:  listening on IPv4 address \"0.0.0.0\", port 5432", $"{stamp} UTC [1] LOG:  database system is ready to accept connections"],
            "vcluster" => ["info  setup  Using physical cluster at https://kubernetes.default.svc:443", "info  setup  Starting syncers", "info  setup  vcluster is ready (simulated)"],
            _ => [$"{{\"level\":\"info\",\"msg\":\"starting {container}\",\"image\":\"{image}\"}}", "{\"level\":\"info\",\"msg\":\"listening\",\"addr\":\":8080\"}"],
        };
    }

    private static string Line(SimulatedApi api, string pod, string container, string image, int index, DateTimeOffset at)
    {
        var h = SimulatedApi.StableHash($"{api.Options.RandomSeed}/{pod}/{container}/{index}");
        string[] paths = ["/", "/healthz", "/api/v1/items", "/api/v1/orders", "/static/app.js", "/metrics"];
        int[] codes = [200, 200, 200, 200, 201, 204, 304, 404, 500];
        var path = paths[h % paths.Length];
        var code = codes[(h / 7) % codes.Length];
        var ms = 2 + (h % 180);
        return Kind(image) switch
        {
            "nginx" => $"10.244.{h % 4}.{h % 250 + 1} - - [{at.UtcDateTime.ToString("dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture)} +0000] \"GET {path} HTTP/1.1\" {code} {h % 4096} \"-\" \"kube-probe/1.32\"",
            "redis" => $"1:M * {h % 100 + 1} changes in 60 seconds. Saving...",
            "postgres" => $"{at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} UTC [{h % 900 + 100}] LOG:  checkpoint complete: wrote {h % 64} buffers",
            "vcluster" => $"info  syncer  synced {h % 5} objects",
            _ => code >= 500
                ? $"{{\"level\":\"error\",\"msg\":\"request failed\",\"path\":\"{path}\",\"status\":{code},\"duration_ms\":{ms}}}"
                : $"{{\"level\":\"info\",\"msg\":\"request\",\"path\":\"{path}\",\"status\":{code},\"duration_ms\":{ms}}}",
        };
    }
}
