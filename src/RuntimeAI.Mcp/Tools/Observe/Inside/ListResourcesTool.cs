using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.Core.Inside;

namespace RuntimeAI.Mcp.Tools.Observe.Inside;

internal sealed class ListResourcesTool : RuntimeTool
{
    private const int CellChars = 160;

    public override string Name => "list_resources";

    public override string Title => "List Kubernetes resources";

    public override ToolTier Tier => ToolTier.Observe;

    public override string Description =>
        "kubectl get rows of a kind (Pod, pods, po) in a vcluster or host cluster.";

    public override JsonObject InputSchema { get; } = Schema.Object(
    [
        InsideTarget.Argument(),
        Schema.Required("kind", Schema.String()),
        Schema.Optional("namespace", Schema.String()),
        Schema.Optional("label_selector", Schema.String()),
        Schema.Optional("field_selector", Schema.String()),
        .. Schema.Paging(),
        Schema.Reasoning(),
    ]);

    public override JsonObject OutputSchema { get; } = Schema.Output(Schema.Required("rows", Schema.Array(Schema.Array(Schema.String()))));

    public override async ValueTask<ToolResult> InvokeAsync(ToolCall call, CancellationToken cancellationToken)
    {
        var (view, error) = await InsideTarget.OpenAsync(call, cancellationToken).ConfigureAwait(false);
        if (view is null)
        {
            return error!;
        }

        using var _ = view;
        var pageSize = call.GetInt("page_size", 50);
        var ns = call.GetString("namespace");
        var fingerprint = Fingerprint(call);
        var (apiContinue, skip) = (null as string, 0);
        if (call.GetString("page_token") is { } token)
        {
            if (ParseToken(token, fingerprint) is not { } parsed)
            {
                return ToolResult.Error("invalid_page_token", "page_token does not belong to this listing (other kind, namespace or selectors); repeat the first call without page_token");
            }

            (apiContinue, skip) = parsed;
        }

        var table = await view.ListAsync(new ResourceListQuery
        {
            Kind = call.GetString("kind")!,
            Namespace = ns,
            LabelSelector = call.GetString("label_selector"),
            FieldSelector = call.GetString("field_selector"),
            Limit = skip + pageSize,
            Continue = apiContinue,
        }, cancellationToken).ConfigureAwait(false);

        var withNamespace = table.Kind.Namespaced && ns is null;
        var columns = new JsonArray();
        if (withNamespace)
        {
            columns.Add((JsonNode)JsonValue.Create("Namespace"));
        }

        foreach (var c in table.Columns)
        {
            columns.Add((JsonNode)JsonValue.Create(c));
        }

        var budget = OutputBudget.For(call);
        budget.TryTake(columns.ToJsonString());
        var rows = new JsonArray();
        var taken = 0;
        foreach (var row in table.Rows.Skip(skip))
        {
            var cells = new JsonArray();
            if (withNamespace)
            {
                cells.Add((JsonNode)JsonValue.Create(row.Namespace ?? string.Empty));
            }

            foreach (var cell in row.Cells)
            {
                cells.Add((JsonNode)JsonValue.Create(UntrustedText.Clean(cell, CellChars)));
            }

            if (!budget.TryTake(cells.ToJsonString()))
            {
                break;
            }

            rows.Add((JsonNode)cells);
            taken++;
        }

        // Cut by the budget: the next page starts at the first row not shown, on the same API page.
        var next = budget.Truncated
            ? MakeToken(fingerprint, apiContinue, skip + taken)
            : table.Continue is { } more ? MakeToken(fingerprint, more, 0) : null;
        var structured = new JsonObject
        {
            ["kind"] = table.Kind.Display,
            ["columns"] = columns,
            ["rows"] = rows,
            ["next_page_token"] = next,
        };
        if (budget.Truncated)
        {
            structured["truncated"] = $"cut at {budget.MaxBytes} bytes after {taken} row(s); pass next_page_token for the rest, or narrow with namespace/label_selector";
        }

        structured["untrusted"] = UntrustedText.Notice;
        var text = $"{taken} {table.Kind.Display} in {view.Name}{(ns is null ? "" : $" namespace {ns}")}" +
                   (view.IsSandbox ? " (KubeSim, a simulator)" : string.Empty) +
                   (budget.Truncated ? $"; cut by the {budget.MaxBytes}-byte budget, more with next_page_token." : next is null ? "." : "; more with next_page_token.");
        return ToolResult.Ok(structured, text);
    }

    private static string Fingerprint(ToolCall call)
    {
        var key = string.Join('\n', call.GetString("runtime_id"), call.GetString("kind"), call.GetString("namespace"), call.GetString("label_selector"), call.GetString("field_selector"));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0, 6);
    }

    private static string MakeToken(string fingerprint, string? apiContinue, int skip) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{fingerprint}|{skip}|{apiContinue}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string? Continue, int Skip)? ParseToken(string token, string fingerprint)
    {
        try
        {
            var padded = token.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('|', 3);
            return parts.Length == 3 && parts[0] == fingerprint && int.TryParse(parts[1], out var skip) && skip >= 0
                ? (parts[2].Length == 0 ? null : parts[2], skip)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
