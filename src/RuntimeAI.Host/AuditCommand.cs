using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using RuntimeAI.Core.Audit;
using RuntimeAI.Core.Common;
using RuntimeAI.Storage.Sqlite;

namespace RuntimeAI.Host;

/// <summary>
/// <c>runtimeai audit verify|export</c>: checks the audit trail's hash chain and writes compliance
/// reports. Both open the store read-only and never change it, so they are safe to run next to a
/// live server.
/// </summary>
internal static partial class AuditCommand
{
    private static readonly string[] s_csvColumns =
    [
        "seq", "ts", "principal", "client", "transport", "tool", "tier", "outcome", "runtime_id", "operation_id",
        "autonomy", "decision", "rule_ids", "proposal_id", "approver", "idempotency_key", "detail", "reasoning", "hash",
    ];

    public static Command Create()
    {
        var verifyDataDir = Cli.DataDirOption();
        var verifyConfig = Cli.ConfigOption();
        var expectHead = new Option<string?>("--expect-head")
        {
            Description = "The head hash recorded earlier (e.g. by a previous verify or export): also detects records removed from the end.",
        };
        var verify = new Command("verify", "Check the hash chain of the whole audit trail; exit 1 naming the first bad record when anything was edited, deleted or reordered.")
        {
            verifyDataDir, verifyConfig, expectHead,
        };
        verify.SetAction(async (parse, ct) =>
        {
            var trail = await OpenTrailAsync(parse.GetValue(verifyDataDir), parse.GetValue(verifyConfig), ct);
            return await VerifyAsync(trail, parse.GetValue(expectHead), ct);
        });

        var since = new Option<string?>("--since")
        {
            Description = "Start of the report: an RFC 3339 time (2026-01-31T00:00:00Z) or a duration back from now (90m, 24h, 7d). Default: the whole trail.",
        };
        var format = new Option<string>("--format") { Description = "json (whole records, re-verifiable) or csv (one row per call).", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "csv");
        var output = new Option<string?>("--out") { Description = "Write the report to this file (default: stdout)." };
        var exportDataDir = Cli.DataDirOption();
        var exportConfig = Cli.ConfigOption();
        var export = new Command("export", "Write audit records since a time as JSON or CSV for compliance reports (secrets are redacted).")
        {
            since, format, output, exportDataDir, exportConfig,
        };
        export.SetAction(async (parse, ct) =>
        {
            var from = ParseSince(parse.GetValue(since), TimeProvider.System.GetUtcNow());
            var trail = await OpenTrailAsync(parse.GetValue(exportDataDir), parse.GetValue(exportConfig), ct);
            return await ExportAsync(trail, from, parse.GetValue(format)!, parse.GetValue(output), ct);
        });

        return new Command("audit", "Verify or export the tamper-evident audit trail.") { verify, export };
    }

    /// <summary>Parses <c>--since</c>: RFC 3339, or a duration (s, m, h, d, w) back from <paramref name="now"/>.</summary>
    internal static DateTimeOffset? ParseSince(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var match = DurationRegex().Match(text.Trim());
        if (match.Success)
        {
            var n = long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            var unit = match.Groups["unit"].Value switch
            {
                "s" => TimeSpan.FromSeconds(1),
                "m" => TimeSpan.FromMinutes(1),
                "h" => TimeSpan.FromHours(1),
                "d" => TimeSpan.FromDays(1),
                _ => TimeSpan.FromDays(7),
            };
            if (n > 100_000)
            {
                throw new CliException($"--since '{text}' is too far back; use at most 100000 units or an RFC 3339 time", 2);
            }

            return now - (unit * n);
        }

        if (text.Contains('T', StringComparison.OrdinalIgnoreCase)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        throw new CliException($"--since '{text}' is neither an RFC 3339 time (e.g. 2026-01-31T00:00:00Z) nor a duration (e.g. 90m, 24h, 7d)", 2);
    }

    /// <summary>The trail of the store the config names: the SQLite file in the data dir, or the PostgreSQL database.</summary>
    private static async Task<AuditTrailReader> OpenTrailAsync(string? dataDir, string? configFile, CancellationToken cancellationToken)
    {
        var options = Cli.LoadOptions(new ServerConfig.Flags { DataDir = dataDir, ConfigFile = configFile });
        return options.Store == "postgres"
            ? await AuditTrailReader.OpenPostgresAsync(options.PostgresConnectionString!, cancellationToken)
            : AuditTrailReader.Open(options.DataDir);
    }

    internal static Task<int> VerifyAsync(string dataDir, string? expectedHead, CancellationToken cancellationToken) =>
        VerifyAsync(AuditTrailReader.Open(dataDir), expectedHead, cancellationToken);

    internal static async Task<int> VerifyAsync(AuditTrailReader opened, string? expectedHead, CancellationToken cancellationToken)
    {
        using var trail = opened;
        string? problem = null;
        long? problemSeq = null;
        long count = 0;
        var head = AuditChain.GenesisHash;

        IEnumerable<AuditRecord> Records()
        {
            foreach (var row in trail.Rows(null))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (row.Check() is { } why)
                {
                    // Rows after a broken one are not read: the first bad record is what matters.
                    problem = why;
                    problemSeq = row.Seq;
                    yield break;
                }

                count++;
                head = row.Record!.Hash;
                yield return row.Record!;
            }
        }

        var result = AuditChain.Verify(Records());
        if (result.Ok && problem is null && expectedHead is not null && !string.Equals(head, expectedHead, StringComparison.Ordinal))
        {
            // Every row is consistent: run again with the expected head for Verify's own wording.
            result = AuditChain.Verify(trail.Rows(null).Select(r => r.Record!), expectedHead);
        }

        if (!result.Ok)
        {
            throw new CliException($"audit chain broken at record {result.FirstBadSeq}: {result.Reason}; records before it verify", 1);
        }

        if (problem is not null)
        {
            throw new CliException($"audit chain broken at record {problemSeq}: {problem}; records before it verify", 1);
        }

        var inFlight = trail.CountInFlight();
        await Console.Out.WriteLineAsync(
            $"audit chain intact: {count} record{(count == 1 ? "" : "s")}, head {head}" +
            (inFlight > 0 ? $" ({inFlight} call{(inFlight == 1 ? "" : "s")} in flight, not yet recorded)" : ""));
        return 0;
    }

    private static async Task<int> ExportAsync(AuditTrailReader opened, DateTimeOffset? since, string format, string? outFile, CancellationToken cancellationToken)
    {
        using var trail = opened;
        Stream stream;
        try
        {
            stream = outFile is null ? Console.OpenStandardOutput() : File.Create(outFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write '{outFile}' ({ex.Message}); pass --out with a file you can write", 2);
        }

        var summary = new ExportSummary();
        await using (stream)
        {
            if (format == "csv")
            {
                await WriteCsvAsync(trail, since, stream, summary, cancellationToken);
            }
            else
            {
                await WriteJsonAsync(trail, since, stream, summary, cancellationToken);
            }
        }

        if (summary.RedactedAtExport > 0)
        {
            await Console.Error.WriteLineAsync(
                $"runtimeai: warning: {summary.RedactedAtExport} record(s) held secret-shaped text that was redacted in the export only (the store keeps it; their exported hashes no longer verify)");
        }

        await Console.Error.WriteLineAsync(
            $"runtimeai: exported {summary.Count} audit record(s)" +
            (summary.Count > 0 ? $" (seq {summary.FirstSeq}..{summary.LastSeq}, head {summary.HeadHash})" : "") +
            (since is { } s ? $" since {s.ToString("O", CultureInfo.InvariantCulture)}" : "") +
            (outFile is null ? "" : $" to {outFile}"));
        return 0;
    }

    private static async Task WriteJsonAsync(AuditTrailReader trail, DateTimeOffset? since, Stream stream, ExportSummary summary, CancellationToken cancellationToken)
    {
        await using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString("exported_at", TimeProvider.System.GetUtcNow());
        if (since is { } s)
        {
            writer.WriteString("since", s);
        }
        else
        {
            writer.WriteNull("since");
        }

        writer.WriteStartArray("records");
        string? prevHash = null;
        foreach (var row in trail.Rows(since))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var node = row.Document ?? throw Unreadable(row.Seq);
            var redacted = SecretRedactor.Redact(node)!;
            if (!JsonNode.DeepEquals(node, redacted))
            {
                summary.RedactedAtExport++;
            }

            prevHash ??= row.PrevHash;
            redacted.WriteTo(writer);
            summary.Add(row);
            if (writer.BytesPending > 64 * 1024)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }

        writer.WriteEndArray();
        writer.WriteNumber("count", summary.Count);
        WriteNullableNumber(writer, "first_seq", summary.FirstSeq);
        WriteNullableNumber(writer, "last_seq", summary.LastSeq);
        // With prev_hash, the records can be re-verified on their own (AuditChain.VerifySegment).
        writer.WriteString("prev_hash", prevHash);
        writer.WriteString("head_hash", summary.HeadHash);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    private static async Task WriteCsvAsync(AuditTrailReader trail, DateTimeOffset? since, Stream stream, ExportSummary summary, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', s_csvColumns));
        foreach (var row in trail.Rows(since))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = row.Record ?? throw Unreadable(row.Seq);
            var (decision, ruleIds) = Decision(r.End.Decision);
            string?[] cells =
            [
                r.Seq.ToString(CultureInfo.InvariantCulture),
                r.Begin.Ts.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
                r.Begin.Principal, r.Begin.Client, r.Begin.Transport, r.Begin.Tool, r.Begin.Tier, r.End.Outcome,
                r.End.RuntimeId, r.End.OperationId, r.Begin.AutonomyLevel, decision, ruleIds, r.End.ProposalId,
                r.End.Approver, r.Begin.IdempotencyKey, r.End.Detail, r.Begin.Reasoning, r.Hash,
            ];
            var redactedAny = false;
            var line = new StringBuilder();
            for (var i = 0; i < cells.Length; i++)
            {
                var cell = cells[i] ?? string.Empty;
                var redacted = SecretRedactor.RedactText(cell);
                redactedAny |= !string.Equals(cell, redacted, StringComparison.Ordinal);
                if (i > 0)
                {
                    line.Append(',');
                }

                line.Append(CsvCell(redacted, alwaysQuote: s_csvColumns[i] is "reasoning" or "detail"));
            }

            if (redactedAny)
            {
                summary.RedactedAtExport++;
            }

            await writer.WriteLineAsync(line.ToString());
            summary.Add(row);
        }
    }

    /// <summary>One CSV cell (RFC 4180), neutralized against spreadsheet formula injection: the text is untrusted.</summary>
    internal static string CsvCell(string value, bool alwaysQuote)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return alwaysQuote || value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    /// <summary>The effect(s) and rule ids of a decision, wherever they sit in it (one decision or one per action).</summary>
    private static (string? Decision, string? RuleIds) Decision(JsonObject? decision)
    {
        if (decision is null)
        {
            return (null, null);
        }

        var effects = new List<string>();
        var rules = new List<string>();
        Collect(decision);
        return (effects.Count == 0 ? null : string.Join(';', effects.Distinct(StringComparer.Ordinal)),
            rules.Count == 0 ? null : string.Join(';', rules.Distinct(StringComparer.Ordinal)));

        void Collect(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (name, value) in obj)
                    {
                        if (name is "effect" or "decision" && value is JsonValue v && v.TryGetValue<string>(out var effect))
                        {
                            effects.Add(effect);
                        }
                        else if (name == "rule_ids" && value is JsonArray ids)
                        {
                            rules.AddRange(ids.OfType<JsonValue>().Select(i => i.TryGetValue<string>(out var id) ? id : null).OfType<string>());
                        }
                        else
                        {
                            Collect(value);
                        }
                    }

                    break;
                case JsonArray array:
                    foreach (var item in array)
                    {
                        Collect(item);
                    }

                    break;
            }
        }
    }

    private static void WriteNullableNumber(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static CliException Unreadable(long seq) =>
        new($"audit record {seq} cannot be read (its document was edited); run 'runtimeai audit verify' and restore the store from a backup", 1);

    [GeneratedRegex("^(?<n>[0-9]{1,9})(?<unit>[smhdw])$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationRegex();

    private sealed class ExportSummary
    {
        public long Count { get; private set; }

        public long? FirstSeq { get; private set; }

        public long? LastSeq { get; private set; }

        public string? HeadHash { get; private set; }

        public int RedactedAtExport { get; set; }

        public void Add(AuditRow row)
        {
            Count++;
            FirstSeq ??= row.Seq;
            LastSeq = row.Seq;
            HeadHash = row.Hash;
        }
    }
}

/// <summary>One row of <c>audit_log</c> as stored: the indexed columns and the record document.</summary>
internal sealed record AuditRow(
    long Seq, string CallId, string Ts, string Tool, string Principal, string? RuntimeId, string Doc, string PrevHash, string Hash)
{
    private AuditRecord? _record;
    private bool _recordRead;

    /// <summary>The stored document as a JSON tree; null when it is not JSON (parsed on each call).</summary>
    public JsonObject? Document => TryParse(Doc);

    /// <summary>The stored document as a record; null when it cannot be read as one.</summary>
    public AuditRecord? Record
    {
        get
        {
            if (!_recordRead)
            {
                _record = TryRecord(Doc);
                _recordRead = true;
            }

            return _record;
        }
    }

    /// <summary>
    /// Why this row cannot be trusted before its hash is even checked (null when it is consistent):
    /// the row was moved to another seq, or its indexed columns — which filters and exports read —
    /// were edited apart from the document the hash covers.
    /// </summary>
    public string? Check()
    {
        if (Record is not { } r)
        {
            return $"the document of record {Seq} is not a readable audit record: it was edited";
        }

        if (r.Seq != Seq)
        {
            return $"the row stored as record {Seq} holds record {r.Seq}: records were reordered (their seq was changed)";
        }

        var mismatch =
            !string.Equals(r.Hash, Hash, StringComparison.Ordinal) ? "hash"
            : !string.Equals(r.PrevHash, PrevHash, StringComparison.Ordinal) ? "prev_hash"
            : !string.Equals(r.Begin.CallId, CallId, StringComparison.Ordinal) ? "call_id"
            : !string.Equals(SqliteAuditLog.ColumnText(r.Begin.Tool), Tool, StringComparison.Ordinal) ? "tool"
            : !string.Equals(SqliteAuditLog.ColumnText(r.Begin.Principal), Principal, StringComparison.Ordinal) ? "principal"
            : !string.Equals(SqliteAuditLog.ColumnText(r.End.RuntimeId), RuntimeId, StringComparison.Ordinal) ? "runtime_id"
            : !DateTimeOffset.TryParse(Ts, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var ts) || ts != r.Begin.Ts ? "ts"
            : null;
        return mismatch is null
            ? null
            : $"record {Seq}'s {mismatch} column disagrees with its hashed document: it was edited (filters and exports read that column)";
    }

    private static JsonObject? TryParse(string doc)
    {
        try
        {
            return JsonNode.Parse(doc) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static AuditRecord? TryRecord(string doc)
    {
        try
        {
            return JsonSerializer.Deserialize(doc, CoreJsonContext.Default.AuditRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Reads <c>audit_log</c> straight from the store (the SQLite file or the PostgreSQL database), read-only, in seq order.</summary>
internal sealed class AuditTrailReader : IDisposable
{
    private readonly System.Data.Common.DbConnection _connection;
    private readonly IDisposable? _owner;

    // Text comparison of ts must be byte order on both stores (PostgreSQL's default collation may not be).
    private readonly string _textOrder;

    private AuditTrailReader(System.Data.Common.DbConnection connection, IDisposable? owner = null, string textOrder = "")
    {
        _connection = connection;
        _owner = owner;
        _textOrder = textOrder;
    }

    /// <summary>Opens the trail in the PostgreSQL database of <paramref name="connectionString"/> without migrating or changing it.</summary>
    public static async Task<AuditTrailReader> OpenPostgresAsync(string connectionString, CancellationToken cancellationToken)
    {
        var database = await RuntimeAI.Storage.Postgres.PostgresDatabase.OpenExistingAsync(connectionString, cancellationToken);
        try
        {
            var connection = await database.OpenConnectionAsync(cancellationToken);
            return new AuditTrailReader(connection, database, " COLLATE \"C\"");
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    public static AuditTrailReader Open(string dataDir)
    {
        var path = Path.Combine(dataDir, SqliteDatabase.FileName);
        if (!File.Exists(path))
        {
            throw new CliException($"no RuntimeAI store at '{path}'; pass --data-dir with the server's data directory", 2);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'";
            if (Convert.ToInt64(check.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
            {
                throw new CliException($"'{path}' has no audit trail (not a RuntimeAI store); pass --data-dir with the server's data directory", 2);
            }
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new CliException($"'{path}' cannot be read as a RuntimeAI store (SQLite: {ex.Message}); pass --data-dir with the server's data directory", 2);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return new AuditTrailReader(connection);
    }

    /// <summary>Every row in seq order, from <paramref name="since"/> (by call start time) when given.</summary>
    public IEnumerable<AuditRow> Rows(DateTimeOffset? since)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT seq, call_id, ts, tool, principal, runtime_id, doc, prev_hash, hash FROM audit_log"
                              + (since is null ? "" : $" WHERE ts{_textOrder} >= @since") + " ORDER BY seq";
        if (since is { } s)
        {
            // ts is stored as the round-trip ("O") text of a UTC instant, so text order is time order.
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@since";
            parameter.Value = s.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
            command.Parameters.Add(parameter);
        }

        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new AuditRow(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8));
        }
    }

    public long CountInFlight()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM audit_inflight";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        _connection.Dispose();
        _owner?.Dispose();
    }
}
