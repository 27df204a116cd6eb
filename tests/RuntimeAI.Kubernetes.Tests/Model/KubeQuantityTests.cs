using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Tests.Model;

public sealed class KubeQuantityTests
{
    [Theory]
    [InlineData("500m", 0.5)]
    [InlineData("2", 2)]
    [InlineData("7500m", 7.5)]
    [InlineData("1Ki", 1024)]
    [InlineData("1.5Gi", 1610612736)]
    [InlineData("128974848", 128974848)]
    [InlineData("129e6", 129000000)]
    [InlineData("129M", 129000000)]
    [InlineData("100n", 0.0000001)]
    [InlineData("110", 110)]
    public void Parse_Valid_ReturnsBaseUnits(string text, double expected)
    {
        Assert.Equal((decimal)expected, KubeQuantity.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Gi")]
    [InlineData("12Xi")]
    [InlineData("1e3Gi")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        Assert.False(KubeQuantity.TryParse(text, out _));
    }
}
