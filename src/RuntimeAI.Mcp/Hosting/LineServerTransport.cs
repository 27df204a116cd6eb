using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace RuntimeAI.Mcp.Hosting;

/// <summary>
/// Newline-delimited JSON-RPC over a pair of streams (stdio, or in-memory pipes in process).
/// Unlike the SDK's stream transport, every line gets an answer: a line that is not JSON gets a
/// parse error (-32700, id null), and JSON that is not a JSON-RPC message gets invalid request
/// (-32600, with the request's id when one can be read). The SDK's transport stays silent on both,
/// leaving a client waiting forever for a reply.
/// </summary>
internal sealed partial class LineServerTransport : TransportBase
{
    private const int MaxReasonLength = 200;
    private static readonly byte[] Newline = "\n"u8.ToArray();

    private readonly StreamReader _input;
    private readonly Stream _output;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _readLoop;
    private int _disposed;

    public LineServerTransport(Stream input, Stream output, ILoggerFactory? loggerFactory)
        : base("Server (lines)", loggerFactory)
    {
        _input = new StreamReader(input, new UTF8Encoding(false, false));
        _output = output;
        _logger = loggerFactory?.CreateLogger<LineServerTransport>() ?? NullLogger<LineServerTransport>.Instance;
        SetConnected();
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
    }

    public override async Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
    {
        if (!IsConnected)
        {
            return;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(message, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)));
        await WriteLineAsync(json, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteLineAsync(byte[] json, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _output.WriteAsync(json, cancellationToken).ConfigureAwait(false);
            await _output.WriteAsync(Newline, cancellationToken).ConfigureAwait(false);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new IOException("Failed to send a JSON-RPC message.", ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var token = _shutdown.Token;
        Exception? error = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var line = await _input.ReadLineAsync(token).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }

                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                JsonRpcMessage? message;
                byte[]? reply;
                try
                {
                    message = Parse(line, out reply);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One line the checks above did not foresee never ends the session.
                    LogUnreadable(_logger, ex);
                    message = null;
                    reply = ErrorReply(null, McpErrorCode.InvalidRequest, "Invalid Request: the line could not be read as a JSON-RPC 2.0 message.");
                }

                if (message is not null)
                {
                    await WriteMessageAsync(message, token).ConfigureAwait(false);
                }
                else
                {
                    try
                    {
                        await WriteLineAsync(reply!, token).ConfigureAwait(false);
                    }
                    catch (IOException ex)
                    {
                        LogReplyFailed(_logger, ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            error = ex;
            LogReadFailed(_logger, ex);
        }
        finally
        {
            SetDisconnected(error);
        }
    }

    /// <summary>The message on the line, or null and the error reply to write instead.</summary>
    internal static JsonRpcMessage? Parse(string line, out byte[]? reply)
    {
        reply = null;
        try
        {
            if (JsonSerializer.Deserialize(line, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage))) is JsonRpcMessage message)
            {
                return message;
            }

            reply = ErrorReply(null, McpErrorCode.InvalidRequest, "Invalid Request: expected a JSON-RPC 2.0 message object, got null.");
            return null;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or FormatException or ArgumentException)
        {
            var (wellFormed, id) = Inspect(line);
            reply = wellFormed
                ? ErrorReply(id, McpErrorCode.InvalidRequest,
                    $"Invalid Request: the line is JSON but not a JSON-RPC 2.0 message this server can read ({Shorten(ex.Message)}). " +
                    "Send one object per line with \"jsonrpc\":\"2.0\", a \"method\" and, for a request, an \"id\".")
                : ErrorReply(null, McpErrorCode.ParseError,
                    "Parse error: the line is not valid JSON. Send one JSON-RPC 2.0 message per line, encoded as UTF-8 JSON.");
            return null;
        }
    }

    /// <summary>Whether the line is well-formed JSON, and the top-level "id" of an object if it has a usable one.</summary>
    private static (bool WellFormed, JsonElement? Id) Inspect(string line)
    {
        JsonElement? id = null;
        try
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = int.MaxValue });
            if (!reader.Read())
            {
                return (false, null);
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isId = reader.ValueTextEquals("id"u8);
                    if (!reader.Read())
                    {
                        return (false, null);
                    }

                    if (isId && reader.TokenType is JsonTokenType.String or JsonTokenType.Number && Http.JsonBody.Echoable(ref reader))
                    {
                        using var doc = JsonDocument.ParseValue(ref reader);
                        id = doc.RootElement.Clone();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }

            // Whatever follows the first value must be whitespace only.
            return (!reader.Read() && reader.BytesConsumed == bytes.Length, id);
        }
        catch (JsonException)
        {
            return (false, null);
        }
    }

    private static byte[] ErrorReply(JsonElement? id, McpErrorCode code, string message)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            if (id is { } value)
            {
                value.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteStartObject("error");
            writer.WriteNumber("code", (int)code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Shorten(string text)
    {
        var firstLine = text.Split('\n')[0].Trim();
        return firstLine.Length <= MaxReasonLength ? firstLine : firstLine[..MaxReasonLength] + "…";
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _shutdown.CancelAsync().ConfigureAwait(false);
            // Closing the streams wakes a read blocked in a system call that ignores cancellation.
            _input.Dispose();
            await _output.DisposeAsync().ConfigureAwait(false);
            try
            {
                await _readLoop.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException)
            {
            }
        }
        finally
        {
            SetDisconnected();
            _shutdown.Dispose();
            _sendLock.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not send the error reply to a malformed line")]
    private static partial void LogReplyFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a JSON-RPC line could not be read; it was answered with invalid request")]
    private static partial void LogUnreadable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "reading JSON-RPC lines failed; the session ends")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);
}

/// <summary>Registers <see cref="LineServerTransport"/> in place of the SDK's stream transports.</summary>
public static class LineServerTransportExtensions
{
    /// <summary>stdio: stdin in, stdout out (nothing else may write to stdout).</summary>
    public static IMcpServerBuilder WithRuntimeAiStdioTransport(this IMcpServerBuilder builder) =>
        builder.WithRuntimeAiStreamTransport(new CancellableReadStream(Console.OpenStandardInput()), new BufferedStream(Console.OpenStandardOutput()));

    /// <summary>The given streams (in-process sessions and tests).</summary>
    public static IMcpServerBuilder WithRuntimeAiStreamTransport(this IMcpServerBuilder builder, Stream input, Stream output)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // The SDK's method registers the single-session hosted service that runs the server; its
        // transport (a lazy factory) is then replaced by ours before anything resolves it.
        builder.WithStdioServerTransport();
        builder.Services.RemoveAll<ITransport>();
        builder.Services.AddSingleton<ITransport>(sp => new LineServerTransport(input, output, sp.GetService<ILoggerFactory>()));
        return builder;
    }
}

/// <summary>
/// A read-only stream whose reads end when their token is cancelled even if the inner stream
/// ignores tokens (console streams block in a system call), so the server can shut down.
/// </summary>
internal sealed class CancellableReadStream(Stream inner) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken).WaitAsync(cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(buffer, cancellationToken);
        return read.IsCompletedSuccessfully ? read : new ValueTask<int>(read.AsTask().WaitAsync(cancellationToken));
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
