using RuntimeAI.Kubernetes.Client;

namespace RuntimeAI.Kubernetes.Tests.Client;

public sealed class KubeResourceTypeTests
{
    [Theory]
    [InlineData("", null, null, "/api/v1/namespaces/ns1/pods")]
    [InlineData("", "p1", null, "/api/v1/namespaces/ns1/pods/p1")]
    [InlineData("", "p1", "log", "/api/v1/namespaces/ns1/pods/p1/log")]
    public void GetPath_CorePods_BuildsPath(string _, string? name, string? subresource, string expected)
    {
        Assert.Equal(expected, KubeResourceTypes.Pods.GetPath("ns1", name, subresource));
    }

    [Fact]
    public void GetPath_ClusterScoped_IgnoresNamespace()
    {
        Assert.Equal("/api/v1/nodes/n1", KubeResourceTypes.Nodes.GetPath("ignored", "n1"));
    }

    [Fact]
    public void GetPath_NullNamespace_AddressesAllNamespaces()
    {
        Assert.Equal("/apis/apps/v1/deployments", KubeResourceTypes.Deployments.GetPath(null));
    }

    [Fact]
    public void GetPath_OddName_IsEscaped()
    {
        Assert.Equal("/api/v1/namespaces/a%20b/configmaps/x%2Fy", KubeResourceTypes.ConfigMaps.GetPath("a b", "x/y"));
    }

    [Theory]
    [InlineData("v1", "", "v1")]
    [InlineData("apps/v1", "apps", "v1")]
    [InlineData("subresources.kubevirt.io/v1", "subresources.kubevirt.io", "v1")]
    public void SplitApiVersion_Variants_SplitsGroupAndVersion(string apiVersion, string group, string version)
    {
        Assert.Equal((group, version), KubeResourceType.SplitApiVersion(apiVersion));
    }

    [Fact]
    public void Validate_SeveralBadValues_ReportsAll()
    {
        var options = new KubeApiClientOptions { RequestTimeout = TimeSpan.Zero, MaxRetries = -1, UserAgent = " " };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("RequestTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRetries", ex.Message, StringComparison.Ordinal);
        Assert.Contains("UserAgent", ex.Message, StringComparison.Ordinal);
    }
}
