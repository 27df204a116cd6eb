using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using RuntimeAI.KubeSim;

namespace RuntimeAI.KubeSim.Tests;

/// <summary>An in-process simulator on loopback with a fake clock and controllers driven by the test.</summary>
internal sealed class SimHost : IAsyncDisposable
{
    private SimHost(KubeSimServer server, FakeTimeProvider time)
    {
        Server = server;
        Time = time;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public KubeSimServer Server { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Http { get; }

    public static readonly DateTimeOffset Epoch = new(2026, 1, 15, 9, 0, 0, TimeSpan.Zero);

    public static async Task<SimHost> StartAsync(string? seedYaml = null, Action<KubeSimOptions>? configure = null)
    {
        var time = new FakeTimeProvider(Epoch);
        var options = new KubeSimOptions
        {
            TimeProvider = time,
            RunControllersInBackground = false,
            SeedYaml = seedYaml,
        };
        configure?.Invoke(options);
        var server = await KubeSimServer.StartAsync(options, CancellationToken.None);
        return new SimHost(server, time);
    }

    /// <summary>Lets controllers settle at the current time, moves the fake clock, and lets them settle again.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        await Server.RunControllersOnceAsync();
        Time.Advance(by);
        await Server.RunControllersOnceAsync();
    }

    public Task SettleAsync() => Server.RunControllersOnceAsync();

    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? body = null, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? node = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            node = JsonNode.Parse(text);
        }
        else if (text.Length > 0)
        {
            node = JsonValue.Create(text);
        }

        return ((int)response.StatusCode, node);
    }

    public Task<(int Status, JsonNode? Body)> GetAsync(string path, string? accept = null) => SendAsync(HttpMethod.Get, path, accept: accept);

    public Task<(int Status, JsonNode? Body)> PostAsync(string path, string body) => SendAsync(HttpMethod.Post, path, body);

    public Task<(int Status, JsonNode? Body)> PutAsync(string path, string body) => SendAsync(HttpMethod.Put, path, body);

    public Task<(int Status, JsonNode? Body)> PatchAsync(string path, string body, string contentType) => SendAsync(HttpMethod.Patch, path, body, contentType);

    public Task<(int Status, JsonNode? Body)> DeleteAsync(string path, string? body = null) => SendAsync(HttpMethod.Delete, path, body);

    public async Task<JsonObject> GetObjectAsync(string path)
    {
        var (status, body) = await GetAsync(path);
        Assert.True(status == 200, $"GET {path} returned {status}: {body?.ToJsonString()}");
        return (JsonObject)body!;
    }

    public async Task<JsonObject> CreateAsync(string collectionPath, string json)
    {
        var (status, body) = await PostAsync(collectionPath, json);
        Assert.True(status == 201, $"POST {collectionPath} returned {status}: {body?.ToJsonString()}");
        return (JsonObject)body!;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    public static string Deployment(string name, int replicas, string image = "nginx:1.27", string cpu = "100m") =>
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"" + name + "\",\"labels\":{\"app\":\"" + name + "\"}}," +
        "\"spec\":{\"replicas\":" + replicas + ",\"selector\":{\"matchLabels\":{\"app\":\"" + name + "\"}}," +
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"" + name + "\"}}," +
        "\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"" + image + "\",\"resources\":{\"requests\":{\"cpu\":\"" + cpu + "\",\"memory\":\"64Mi\"}}}]}}}}";

    public static string Pod(string name, IDictionary<string, string>? labels = null, string cpu = "100m") =>
        new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = labels is null ? null : new JsonObject(labels.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
            },
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "main",
                    ["image"] = "busybox:1.36",
                    ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = cpu, ["memory"] = "32Mi" } },
                }),
            },
        }.ToJsonString();

    public static string ConfigMap(string name, IDictionary<string, string>? labels = null) =>
        new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = labels is null ? null : new JsonObject(labels.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
            },
            ["data"] = new JsonObject { ["key"] = "value" },
        }.ToJsonString();
}
