namespace RuntimeAI.KubeSim.Api;

/// <summary>One served resource: where it lives in the URL space and what discovery says about it.</summary>
internal sealed record ResourceType(
    string Group,
    string Version,
    string Resource,
    string Kind,
    bool Namespaced,
    string[] ShortNames,
    string[] Subresources,
    string[] Categories)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string GroupVersion => ApiVersion;

    /// <summary>The store key and the name used in error messages ("deployments.apps").</summary>
    public string GroupResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";

    public string Singular => Kind.ToLowerInvariant();

    /// <summary>Read-only resources (metrics) are computed on read and support only get and list.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Create-only review resources (access reviews, whoami): answered, never stored.</summary>
    public bool Review { get; init; }

    /// <summary>Whether a PUT or PATCH on the main resource leaves status untouched.</summary>
    public bool HasStatus => Subresources.Contains("status");
}
