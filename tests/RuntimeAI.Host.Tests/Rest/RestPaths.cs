namespace RuntimeAI.Host.Tests.Rest;

/// <summary>The REST API's paths with concrete ids, for the tests that walk all of them.</summary>
internal static class RestPaths
{
    /// <summary>A body the path's schema accepts (so what is tested is the path's own answer, not the firewall's).</summary>
    public static string? ValidBody(HttpMethod method, string path) => method == HttpMethod.Get || method == HttpMethod.Delete
        ? null
        : path switch
        {
            "/runtimes" => """{"name": "web-x", "type": "vm"}""",
            "/policies" => """{"name": "p-x", "rules": [{"kind": "allow_action"}]}""",
            _ when path.EndsWith("/plan", StringComparison.Ordinal) || path.EndsWith("/intent", StringComparison.Ordinal) => """{"goal": "reduce cost"}""",
            _ when path.EndsWith("/execute", StringComparison.Ordinal) => """{"actions": [{"type": "snapshot", "params": {"name": "s1"}}]}""",
            _ when path.EndsWith("/scale", StringComparison.Ordinal) => """{"size": "large"}""",
            _ when path.EndsWith("/restore", StringComparison.Ordinal) => """{"snapshot": "s1"}""",
            _ => null,
        };

    /// <summary>Every path that acts on one runtime (reads and mutations).</summary>
    public static IEnumerable<(HttpMethod Method, string Path)> RuntimePaths(string runtimeId) =>
    [
        (HttpMethod.Get, $"/runtimes/{runtimeId}"),
        (HttpMethod.Get, $"/runtimes/{runtimeId}/status"),
        (HttpMethod.Get, $"/runtimes/{runtimeId}/intent/int_00000000000000000000000000"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/actions/plan"),
        .. Mutations(runtimeId).Where(m => m.Path.StartsWith("/runtimes/", StringComparison.Ordinal)),
    ];

    /// <summary>Every mutation (the runtime ones on <paramref name="runtimeId"/>).</summary>
    public static IEnumerable<(HttpMethod Method, string Path)> Mutations(string runtimeId) =>
    [
        (HttpMethod.Post, "/runtimes"),
        (HttpMethod.Delete, $"/runtimes/{runtimeId}"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/start"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/stop"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/restart"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/scale"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/snapshot"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/restore"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/intent"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/actions/execute"),
        (HttpMethod.Post, "/policies"),
        (HttpMethod.Delete, "/policies/rest-tests"),
    ];

    /// <summary>Every path of the API but the public ones (/health, /openapi.json).</summary>
    public static IEnumerable<(HttpMethod Method, string Path)> All(string runtimeId, string operationId, string proposalId, string intentId, string policyId) =>
    [
        (HttpMethod.Post, "/runtimes"),
        (HttpMethod.Get, "/runtimes"),
        (HttpMethod.Get, $"/runtimes/{runtimeId}"),
        (HttpMethod.Delete, $"/runtimes/{runtimeId}"),
        (HttpMethod.Get, $"/runtimes/{runtimeId}/status"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/start"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/stop"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/restart"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/scale"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/snapshot"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/lifecycle/restore"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/intent"),
        (HttpMethod.Get, $"/runtimes/{runtimeId}/intent/{intentId}"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/actions/plan"),
        (HttpMethod.Post, $"/runtimes/{runtimeId}/actions/execute"),
        (HttpMethod.Post, "/policies"),
        (HttpMethod.Get, "/policies"),
        (HttpMethod.Get, $"/policies/{policyId}"),
        (HttpMethod.Delete, $"/policies/{policyId}"),
        (HttpMethod.Get, $"/operations/{operationId}"),
        (HttpMethod.Get, "/proposals"),
        (HttpMethod.Get, $"/proposals/{proposalId}"),
        (HttpMethod.Post, $"/proposals/{proposalId}/approve"),
        (HttpMethod.Post, $"/proposals/{proposalId}/reject"),
        (HttpMethod.Get, "/audit"),
        (HttpMethod.Get, "/audit/export"),
        (HttpMethod.Post, "/discovery"),
        (HttpMethod.Get, "/no-such-path"),
    ];
}
