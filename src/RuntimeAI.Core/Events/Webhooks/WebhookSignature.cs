using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RuntimeAI.Core.Events.Webhooks;

/// <summary>
/// HMAC-SHA256 over <c>{timestamp}.{body}</c> with the subscription's secret, sent as
/// <c>RuntimeAI-Signature: v1=&lt;hex&gt;</c> beside <c>RuntimeAI-Timestamp</c> (Unix seconds). Binding
/// the timestamp into the MAC lets a receiver refuse replays older than its window.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header carrying the signature.</summary>
    public const string SignatureHeader = "RuntimeAI-Signature";

    /// <summary>The header carrying the Unix time (seconds) the attempt was signed.</summary>
    public const string TimestampHeader = "RuntimeAI-Timestamp";

    /// <summary>The header carrying the delivery id (the same on every attempt of one delivery).</summary>
    public const string DeliveryHeader = "RuntimeAI-Delivery";

    /// <summary>The header carrying the event type.</summary>
    public const string EventTypeHeader = "RuntimeAI-Event-Type";

    /// <summary>The replay window we document for receivers.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    private const string SecretPrefix = "whsec_";

    /// <summary>A new random secret (256 bits).</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The <c>v1=…</c> header value for <paramref name="body"/> sent at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var key = Encoding.UTF8.GetBytes(secret);
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, message));
    }

    /// <summary>
    /// What a receiver does: the timestamp within <paramref name="tolerance"/> of <paramref name="now"/>
    /// and one of the <c>v1=</c> values equal (in constant time) to the MAC it computes.
    /// </summary>
    public static bool Verify(string secret, string? signatureHeader, string? timestampHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(signatureHeader) ||
            !long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp) ||
            Math.Abs(now.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body));
        foreach (var part in signatureHeader.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(part)))
            {
                return true;
            }
        }

        return false;
    }
}
