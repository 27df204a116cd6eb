using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RuntimeAI.Mcp.Hosting;

namespace RuntimeAI.Mcp.Tools.Observe.Inside;

/// <summary>
/// The byte budget of one answer of an inside-a-runtime tool (<c>observe_max_bytes</c>, default
/// 8 KiB): pieces are added while they fit; the answer then says it was cut and how to get the rest.
/// </summary>
internal sealed class OutputBudget(int maxBytes)
{
    // What the envelope of a result costs (JSON-RPC frame, summary text, paging members).
    private const int Envelope = 512;

    private int _used = Envelope;

    public int MaxBytes { get; } = maxBytes;

    public bool Truncated { get; private set; }

    public int Used => _used;

    public static OutputBudget For(ToolCall call) =>
        new(call.Services.GetRequiredService<RuntimeAiServerOptions>().ObserveMaxBytes);

    /// <summary>Takes the bytes of <paramref name="piece"/> when they fit; otherwise marks the answer as cut.</summary>
    public bool TryTake(string piece, int overhead = 4)
    {
        var bytes = Encoding.UTF8.GetByteCount(piece) + overhead;
        if (Truncated || _used + bytes > MaxBytes)
        {
            Truncated = true;
            return false;
        }

        _used += bytes;
        return true;
    }
}
