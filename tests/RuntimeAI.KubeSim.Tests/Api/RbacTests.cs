namespace RuntimeAI.KubeSim.Tests.Api;

/// <summary>
/// RBAC objects (Role, RoleBinding, ClusterRole, ClusterRoleBinding) are served and stored, so a
/// ServiceAccount's roles apply with kubectl (dry-run=server included); the simulator does not enforce them.
/// </summary>
public sealed class RbacTests
{
    private const string ClusterRoles = "apis/rbac.authorization.k8s.io/v1/clusterroles";
    private const string ClusterRole = """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"drivers"},"rules":[{"apiGroups":["kubevirt.io"],"resources":["virtualmachines"],"verbs":["get","create"]}]}""";

    [Fact]
    public async Task Discovery_RbacGroup_ListsTheFourKindsWithTheirScope()
    {
        await using var sim = await SimHost.StartAsync();

        var rbac = await sim.GetObjectAsync("apis/rbac.authorization.k8s.io/v1");

        var scope = rbac["resources"]!.AsArray().ToDictionary(r => r!["name"]!.GetValue<string>(), r => r!["namespaced"]!.GetValue<bool>());
        Assert.Equal(new Dictionary<string, bool> { ["roles"] = true, ["rolebindings"] = true, ["clusterroles"] = false, ["clusterrolebindings"] = false }, scope);
    }

    [Fact]
    public async Task Create_DryRunAll_AnswersCreatedButStoresNothing()
    {
        await using var sim = await SimHost.StartAsync();

        var (status, body) = await sim.PostAsync(ClusterRoles + "?dryRun=All&fieldManager=kubectl-client-side-apply", ClusterRole);

        Assert.Equal(201, status);
        Assert.Equal("drivers", body!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("create", body["rules"]![0]!["verbs"]![1]!.GetValue<string>());
        var (after, _) = await sim.GetAsync(ClusterRoles + "/drivers");
        Assert.Equal(404, after);
    }

    [Fact]
    public async Task Create_ThenGet_RulesAsWritten()
    {
        await using var sim = await SimHost.StartAsync();
        await sim.CreateAsync(ClusterRoles, ClusterRole);

        var stored = await sim.GetObjectAsync(ClusterRoles + "/drivers");

        Assert.Equal("ClusterRole", stored["kind"]!.GetValue<string>());
        Assert.Equal("virtualmachines", stored["rules"]![0]!["resources"]![0]!.GetValue<string>());
    }
}
