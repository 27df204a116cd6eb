namespace RuntimeAI.Core.Common;

/// <summary>One page of a list: the items and the opaque token of the next page (null at the end).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);
