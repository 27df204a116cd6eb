using RuntimeAI.Mcp.Pipeline;

namespace RuntimeAI.Host.Tests.Identity;

public sealed class RequestStateTests
{
    [Fact]
    public async Task TryRedeem_PrincipalWithPipe_BindsToThatExactPrincipal()
    {
        var protector = new RequestStateProtector(new byte[32], TimeProvider.System);
        var state = protector.Issue("user:a|b", "digest");

        var (ok, why) = await protector.TryRedeemAsync(state, "user:a", "digest", CancellationToken.None);
        Assert.False(ok);
        Assert.Equal("the approval was given to another principal", why);
        Assert.True((await protector.TryRedeemAsync(state, "user:a|b", "digest", CancellationToken.None)).Ok);
    }
}
