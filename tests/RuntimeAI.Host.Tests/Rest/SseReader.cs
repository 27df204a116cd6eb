using System.Text;
using System.Text.Json.Nodes;

namespace RuntimeAI.Host.Tests.Rest;

/// <summary>A minimal Server-Sent Events client over a real HTTP response: events (id, data) and comment lines.</summary>
internal sealed class SseReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public sealed record SseEvent(string Id, JsonObject Data);

    public List<string> Comments { get; } = [];

    public static async Task<SseReader> OpenAsync(HttpClient http, string url, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new HttpRequestException($"{(int)response.StatusCode}: {text}", null, response.StatusCode);
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        return new SseReader(response, await response.Content.ReadAsStreamAsync(cancellationToken));
    }

    /// <summary>The next event, or null when <paramref name="timeout"/> passes first.</summary>
    public async Task<SseEvent?> NextAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        string? id = null;
        var data = new StringBuilder();
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException("the server ended the stream");
                if (line.Length == 0)
                {
                    if (data.Length > 0)
                    {
                        return new SseEvent(id ?? string.Empty, JsonNode.Parse(data.ToString())!.AsObject());
                    }

                    continue;
                }

                if (line.StartsWith(':'))
                {
                    Comments.Add(line);
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = line[4..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line[6..]);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
