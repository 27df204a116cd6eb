using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RuntimeAI.Core.Audit.Chain;
using RuntimeAI.Core.Common;

namespace RuntimeAI.Core.Audit;

/// <summary>The result of checking an audit trail's hash chain.</summary>
/// <param name="Ok">True when every record is intact and in place.</param>
/// <param name="FirstBadSeq">The sequence number of the first record that fails (null when <paramref name="Ok"/>).</param>
/// <param name="Reason">What is wrong with it and what that means (null when <paramref name="Ok"/>).</param>
/// <param name="RecordsChecked">How many records were read, up to and including the first bad one.</param>
public sealed record AuditVerification(bool Ok, long? FirstBadSeq, string? Reason, long RecordsChecked);

/// <summary>
/// The tamper-evident hash chain of the audit trail: each record's hash covers its content and its
/// predecessor's hash, so editing, deleting, inserting or reordering records breaks the chain at
/// the first record touched.
/// </summary>
/// <remarks>
/// <para>
/// The hash is the lowercase hex SHA-256 of the UTF-8 canonical JSON of
/// <c>{"begin": ..., "end": ..., "prev_hash": ..., "seq": ...}</c>, where begin and end are
/// serialized with <see cref="CoreJsonContext"/> (snake_case names, nulls omitted, so a property
/// added later with a null value does not change old hashes) and timestamps are converted to UTC
/// first, so a store that keeps the instant but not the offset still verifies.
/// </para>
/// <para>
/// Canonical JSON (close to RFC 8785, kept simple): object members sorted by name in ordinal
/// (UTF-16 code unit) order; no whitespace; strings escape only <c>"</c>, <c>\</c> and control
/// characters (<c>\b \t \n \f \r</c>, others as <c>\u00xx</c>), everything else is literal UTF-8;
/// numbers that are whole and within ±2^53 are written as integers (<c>1.0</c> becomes <c>1</c>),
/// others as the shortest round-trip double with a lowercase exponent without a plus sign or
/// leading zeros (<c>1e-7</c>, <c>1.5e300</c>) — RFC 8785 differs only in how it switches to exponent form.
/// </para>
/// <para>
/// A hash chain without a signature detects accidental and naive tampering; someone who can rewrite
/// every later record can rebuild the chain. Keep the head hash elsewhere (e.g. print it with each
/// export) and pass it to <see cref="Verify(IEnumerable{AuditRecord}, string?)"/> to also detect
/// truncation of the tail.
/// </para>
/// </remarks>
public static class AuditChain
{
    /// <summary>The predecessor hash of the first record: 64 zeros.</summary>
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>The canonical JSON text a record's hash is computed over (everything but the hash).</summary>
    /// <param name="seq">The record's sequence number.</param>
    /// <param name="prevHash">The predecessor's hash (<see cref="GenesisHash"/> for the first record).</param>
    /// <param name="begin">The call as it started.</param>
    /// <param name="end">The call as it ended.</param>
    /// <returns>The canonical JSON.</returns>
    public static string CanonicalJson(long seq, string prevHash, AuditBegin begin, AuditEnd end)
    {
        var sb = new StringBuilder(1024);
        WriteCanonicalJson(seq, prevHash, begin, end, sb);
        return sb.ToString();
    }

    private static void WriteCanonicalJson(long seq, string prevHash, AuditBegin begin, AuditEnd end, StringBuilder sb)
    {
        ArgumentNullException.ThrowIfNull(prevHash);
        ArgumentNullException.ThrowIfNull(begin);
        ArgumentNullException.ThrowIfNull(end);

        var beginJson = JsonSerializer.SerializeToUtf8Bytes(begin with { Ts = begin.Ts.ToUniversalTime() }, CoreJsonContext.Default.AuditBegin);
        var endJson = JsonSerializer.SerializeToUtf8Bytes(end with { Ts = end.Ts.ToUniversalTime() }, CoreJsonContext.Default.AuditEnd);
        using var beginDoc = JsonDocument.Parse(beginJson);
        using var endDoc = JsonDocument.Parse(endJson);

        sb.Append("{\"begin\":");
        CanonicalJsonWriter.Write(beginDoc.RootElement, sb);
        sb.Append(",\"end\":");
        CanonicalJsonWriter.Write(endDoc.RootElement, sb);
        sb.Append(",\"prev_hash\":");
        CanonicalJsonWriter.WriteString(prevHash, sb);
        sb.Append(",\"seq\":").Append(seq.ToString(CultureInfo.InvariantCulture)).Append('}');
    }

    /// <summary>The chain hash of a record built from its parts.</summary>
    /// <param name="seq">The record's sequence number.</param>
    /// <param name="prevHash">The predecessor's hash (<see cref="GenesisHash"/> for the first record).</param>
    /// <param name="begin">The call as it started.</param>
    /// <param name="end">The call as it ended.</param>
    /// <returns>Lowercase hex SHA-256 (64 characters).</returns>
    public static string ComputeHash(long seq, string prevHash, AuditBegin begin, AuditEnd end)
    {
        // The same bytes as SHA-256 over UTF8(CanonicalJson(...)), without making the text a string
        // and then a byte array: every record is hashed once when stored and again when verified.
        var sb = t_canonical ?? new StringBuilder(4096);
        t_canonical = null;
        try
        {
            sb.Clear();
            WriteCanonicalJson(seq, prevHash, begin, end, sb);
            return Sha256OfUtf8(sb);
        }
        finally
        {
            if (sb.Capacity <= MaxKeptCapacity)
            {
                t_canonical = sb;
            }
        }
    }

    // A record's canonical text is rebuilt in this thread's builder; one with very large arguments is not kept.
    private const int MaxKeptCapacity = 64 * 1024;

    [ThreadStatic]
    private static StringBuilder? t_canonical;

    private static string Sha256OfUtf8(StringBuilder text)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Encoding.UTF8's encoder: a surrogate pair split across two chunks is kept whole, a lone
        // surrogate becomes U+FFFD, exactly as Encoding.UTF8.GetBytes(string) does.
        var encoder = Encoding.UTF8.GetEncoder();
        Span<byte> bytes = stackalloc byte[2048];
        foreach (var chunk in text.GetChunks())
        {
            var chars = chunk.Span;
            while (!chars.IsEmpty)
            {
                encoder.Convert(chars, bytes, flush: false, out var used, out var written, out _);
                sha.AppendData(bytes[..written]);
                chars = chars[used..];
            }
        }

        encoder.Convert([], bytes, flush: true, out _, out var last, out _);
        sha.AppendData(bytes[..last]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        sha.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The chain hash of a record (its <see cref="AuditRecord.Hash"/> is ignored).</summary>
    /// <param name="record">The record.</param>
    /// <returns>Lowercase hex SHA-256 (64 characters).</returns>
    public static string ComputeHash(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return ComputeHash(record.Seq, record.PrevHash, record.Begin, record.End);
    }

    /// <summary>Builds the next record of a chain with its hash set.</summary>
    /// <param name="seq">The record's sequence number (1 for the first record).</param>
    /// <param name="prevHash">The predecessor's hash (<see cref="GenesisHash"/> for the first record).</param>
    /// <param name="begin">The call as it started.</param>
    /// <param name="end">The call as it ended.</param>
    /// <returns>The sealed record.</returns>
    public static AuditRecord Seal(long seq, string prevHash, AuditBegin begin, AuditEnd end) => new()
    {
        Seq = seq,
        PrevHash = prevHash,
        Begin = begin,
        End = end,
        Hash = ComputeHash(seq, prevHash, begin, end),
    };

    /// <summary>
    /// Verifies a whole trail, which must start at sequence 1 with <see cref="GenesisHash"/> and
    /// be given in sequence order. Stops at the first bad record and names it.
    /// </summary>
    /// <param name="records">All records, in the order stored.</param>
    /// <param name="expectedHeadHash">
    /// When given, the hash the last record must have (kept elsewhere), so removing records from
    /// the end is detected too.
    /// </param>
    /// <returns>The verification.</returns>
    public static AuditVerification Verify(IEnumerable<AuditRecord> records, string? expectedHeadHash = null)
        => VerifySegment(records, 1, GenesisHash, expectedHeadHash);

    /// <summary>
    /// Verifies a contiguous part of a trail, e.g. an export that starts after a known record.
    /// </summary>
    /// <param name="records">The records, in the order stored.</param>
    /// <param name="firstSeq">The sequence number the first record must have.</param>
    /// <param name="prevHash">The hash of the record before it (<see cref="GenesisHash"/> at the start).</param>
    /// <param name="expectedHeadHash">When given, the hash the last record must have.</param>
    /// <returns>The verification.</returns>
    public static AuditVerification VerifySegment(IEnumerable<AuditRecord> records, long firstSeq, string prevHash, string? expectedHeadHash = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(prevHash);
        var expectedSeq = firstSeq;
        var expectedPrev = prevHash;
        long checkedCount = 0;
        AuditRecord? previous = null;

        foreach (var record in records)
        {
            checkedCount++;
            var seq = record.Seq;
            if (seq != expectedSeq)
            {
                var reason = seq > expectedSeq
                    ? previous is null
                        ? $"the trail starts at record {seq} but must start at record {expectedSeq}: {Plural(seq - expectedSeq, "record")} before it {(seq - expectedSeq == 1 ? "is" : "are")} missing"
                        : $"record {seq} follows record {previous.Seq}: {Range(expectedSeq, seq - 1)} {(seq - expectedSeq == 1 ? "is" : "are")} missing (deleted)"
                    : previous is null
                        ? $"the trail starts at record {seq} but must start at record {expectedSeq}"
                        : $"record {seq} follows record {previous.Seq}: records are out of order or duplicated";
                return Bad(seq, reason, checkedCount);
            }

            if (!string.Equals(record.Hash, ComputeHash(record), StringComparison.Ordinal))
            {
                return Bad(seq, $"record {seq} was modified: its stored hash does not match its content", checkedCount);
            }

            if (!string.Equals(record.PrevHash, expectedPrev, StringComparison.Ordinal))
            {
                var reason = previous is null
                    ? $"record {seq} does not chain to the expected predecessor hash {Short(expectedPrev)}: an earlier record was changed or the trail was replaced"
                    : $"record {seq} does not chain to record {previous.Seq}: record {previous.Seq} was modified (and re-hashed) or replaced";
                return Bad(seq, reason, checkedCount);
            }

            expectedPrev = record.Hash;
            expectedSeq = seq + 1;
            previous = record;
        }

        if (expectedHeadHash is not null && !string.Equals(expectedHeadHash, expectedPrev, StringComparison.Ordinal))
        {
            return Bad(expectedSeq, previous is null
                ? $"the trail is empty but the expected head is {Short(expectedHeadHash)}: records were removed"
                : $"the trail ends at record {previous.Seq} with hash {Short(expectedPrev)}, not at the expected head {Short(expectedHeadHash)}: records after {previous.Seq} were removed or the head belongs to another trail",
                checkedCount);
        }

        return new AuditVerification(true, null, null, checkedCount);
    }

    private static AuditVerification Bad(long seq, string reason, long checkedCount) => new(false, seq, reason, checkedCount);

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] + "…" : hash;

    private static string Plural(long n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static string Range(long from, long to) => from == to ? $"record {from}" : $"records {from}..{to}";
}

/// <summary>
/// <see cref="IAuditHasher"/> over <see cref="AuditChain"/>'s canonical JSON: register it in place
/// of a plain serialization hash so <c>runtimeai audit verify</c> and the store agree.
/// </summary>
public sealed class CanonicalAuditHasher : IAuditHasher
{
    /// <inheritdoc />
    public string ComputeHash(AuditRecord record) => AuditChain.ComputeHash(record);
}
