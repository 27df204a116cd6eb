using RuntimeAI.Core.Identity;

namespace RuntimeAI.Host.Tests.Identity;

public sealed class RolesConfigTests
{
    [Fact]
    public void Load_RolesMapping_GrantsRolesAndReportsEveryUnknownRole()
    {
        var dir = TestPaths.NewDataDir();
        var good = Path.Combine(dir, "good.json");
        File.WriteAllText(good, """{"roles": {"http:alice": ["approver", "viewer"]}}""");
        var bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, """{"roles": {"http:bob": ["root", "admin", "superuser"]}}""");

        var ok = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = good }, new Dictionary<string, string?>());
        var wrong = ServerConfig.Load(new ServerConfig.Flags { ConfigFile = bad }, new Dictionary<string, string?>());

        Assert.Empty(ok.Errors);
        Assert.Equal([Role.Approver, Role.Viewer], ok.Options.Roles["http:alice"]);
        Assert.Equal(2, wrong.Errors.Count);
        Assert.Contains("'root' is not a role; use viewer, operator, approver, admin", wrong.Errors[0], StringComparison.Ordinal);
    }
}
