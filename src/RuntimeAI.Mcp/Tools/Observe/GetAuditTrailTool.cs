using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Inventory;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Tools.Observe;

/// <summary>
/// An agent's own audit history: the finished records whose principal is the caller's, oldest
/// first. Other principals' records are never visible here (operators use <c>runtimeai audit export</c>).
/// </summary>
internal sealed class GetAuditTrailTool : RuntimeTool
{
    private const int MaxDetail = 200;

    public override string Name => "get_audit_trail";

    public override string Title => "Get my audit trail";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "Your own past calls (tool, time, outcome, target) from the tamper-evident audit trail.";

    public override JsonObject InputSchema { get; } = Schema.Object(
    [
        Schema.Optional("tool", Schema.String(null, "^[a-z][a-z0-9_]*$", 64)),
        Schema.Optional("runtime_id", Schema.String(null, Schema.RuntimeIdPattern)),
        Schema.Optional("since", Schema.String(null, format: "date-time")),
        .. Schema.Paging(),
        Schema.Reasoning(),
    ]);

    public override JsonObject OutputSchema { get; } = Schema.PageOf(Schema.Row("ts", "tool", "outcome"));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var principal = call.Principal;
        var tool = call.GetString("tool");
        var runtimeId = call.GetString("runtime_id");
        var since = call.GetString("since") is { } s
            ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime()
            : (DateTimeOffset?)null;
        var pageSize = Math.Clamp(call.GetInt("page_size", 50), 1, 200);
        var filterKey = string.Join('|', principal, tool, runtimeId, since?.ToString("O", CultureInfo.InvariantCulture));
        var afterSeq = DecodeToken(call.GetString("page_token"), filterKey);

        var records = await call.Services.GetRequiredService<IAuditLog>().QueryAsync(new AuditQuery
        {
            Principal = principal,
            Tool = tool,
            RuntimeId = runtimeId,
            Since = since,
            AfterSeq = afterSeq,
            PageSize = pageSize + 1,
        }, cancellationToken).ConfigureAwait(false);

        var page = records.Take(pageSize).ToList();
        var next = records.Count > pageSize ? EncodeToken(filterKey, page[^1].Seq) : null;
        var items = new JsonArray(page.Select(r => (JsonNode)new JsonObject
        {
            ["seq"] = r.Seq,
            ["ts"] = r.Begin.Ts.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            ["tool"] = r.Begin.Tool,
            ["outcome"] = r.End.Outcome,
            ["runtime_id"] = r.End.RuntimeId,
            ["operation_id"] = r.End.OperationId,
            ["detail"] = Detail(r.End.Detail),
        }).ToArray());
        var text = page.Count == 0
            ? $"No audit records of yours ({principal}) match."
            : $"{page.Count} of your call(s) as {principal}, from {page[0].Begin.Tool} at {page[0].Begin.Ts.ToUniversalTime():O}" +
              (next is null ? "." : "; more with next_page_token.");
        return ToolResult.Ok(new JsonObject { ["items"] = items, ["next_page_token"] = next }, text);
    }

    private static string? Detail(string? detail)
    {
        if (detail is null)
        {
            return null;
        }

        // Redacted again on the way out: details are error text, which the writer stores as it came.
        var text = SecretRedactor.RedactText(detail);
        return text.Length <= MaxDetail ? text : text[..MaxDetail] + "…";
    }

    private static string EncodeToken(string filterKey, long seq) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"a1|{Digest(filterKey)}|{seq.ToString(CultureInfo.InvariantCulture)}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static long? DecodeToken(string? token, string filterKey)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        string[] parts;
        try
        {
            var b64 = token.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split('|');
        }
        catch (FormatException)
        {
            throw new InvalidPageTokenException("page_token is not a token this server issued; omit it to start from the first page");
        }

        if (parts.Length != 3 || parts[0] != "a1" || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            throw new InvalidPageTokenException("page_token is not a token get_audit_trail issued; omit it to start from the first page");
        }

        if (parts[1] != Digest(filterKey))
        {
            throw new InvalidPageTokenException("page_token was issued for different filters; repeat the filters of the first call or omit page_token");
        }

        return seq;
    }

    private static string Digest(string text) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 6));
}
