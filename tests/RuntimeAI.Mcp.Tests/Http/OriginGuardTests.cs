using Microsoft.AspNetCore.Http;
using RuntimeAI.Mcp.Hosting;
using RuntimeAI.Mcp.Http;

namespace RuntimeAI.Mcp.Tests.Http;

public sealed class OriginGuardTests
{
    private static HttpRequest Request(string host, string? origin)
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString(host);
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }

        return context.Request;
    }

    [Theory]
    [InlineData("127.0.0.1:7070", null)]
    [InlineData("localhost:7070", "http://localhost:5173")]
    [InlineData("[::1]:7070", "http://127.0.0.1:6274")]
    public void Check_LoopbackHostAndOrigin_Passes(string host, string? origin) =>
        Assert.Null(new OriginGuard(new RuntimeAiServerOptions()).Check(Request(host, origin)));

    [Theory]
    [InlineData("evil.example:7070", null, "Host")]
    [InlineData("127.0.0.1:7070", "http://evil.example", "Origin")]
    [InlineData("127.0.0.1:7070", "null", "Origin")]
    [InlineData("localhost.evil.example", null, "Host")]
    public void Check_ForeignHostOrOrigin_IsRefusedNamingTheHeader(string host, string? origin, string header) =>
        Assert.StartsWith(header, new OriginGuard(new RuntimeAiServerOptions()).Check(Request(host, origin)), StringComparison.Ordinal);

    [Fact]
    public void Check_OperatorAllowedHostAndOrigin_Passes()
    {
        var options = new RuntimeAiServerOptions();
        options.AllowedHosts.Add("mcp.internal");
        options.AllowedOrigins.Add("https://console.internal");

        Assert.Null(new OriginGuard(options).Check(Request("mcp.internal:443", "https://console.internal")));
    }
}
