using RuntimeAI.Mcp.Pipeline;

namespace RuntimeAI.Host.Tests.Identity;

public sealed class RequestStateTests
{
    [Fact]
    public void TryRedeem_PrincipalWithPipe_BindsToThatExactPrincipal()
    {
        var protector = new RequestStateProtector(new byte[32], TimeProvider.System);
        var state = protector.Issue("user:a|b", "digest");

        Assert.False(protector.TryRedeem(state, "user:a", "digest", out var why));
        Assert.Equal("the approval was given to another principal", why);
        Assert.True(protector.TryRedeem(state, "user:a|b", "digest", out _));
    }
}
