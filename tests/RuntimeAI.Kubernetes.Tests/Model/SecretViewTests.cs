using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Tests.Model;

public sealed class SecretViewTests
{
    [Fact]
    public void GetSecretString_DataAndStringData_Decodes()
    {
        var secret = KubeObject.Parse("""{"kind":"Secret","data":{"config":"YXBpVmVyc2lvbjogdjE=","bad":"%%"},"stringData":{"plain":"p"}}""");

        Assert.Equal("apiVersion: v1", secret.GetSecretString("config"));
        Assert.Equal("p", secret.GetSecretString("plain"));
        Assert.Null(secret.GetSecretString("bad"));
        Assert.Null(secret.GetSecretString("missing"));
    }
}
