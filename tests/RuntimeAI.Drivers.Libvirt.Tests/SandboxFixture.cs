using RuntimeAI.Core.Drivers;
using RuntimeAI.Core.Runtimes;

namespace RuntimeAI.Drivers.Libvirt.Tests;

/// <summary>
/// Helpers for tests against libvirt's in-process <c>test:///default</c> driver (needs the Debian
/// package libvirt0). Its state is shared by every connection of this process, so every test
/// uses its own domain names.
/// </summary>
internal static class Sandbox
{
    internal const string Uri = "test:///default";

    internal static LibvirtDomainDriver NewDriver(Action<LibvirtOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new LibvirtOptions { Uri = Uri, DataDir = "/tmp/runtimeai-libvirt-tests", StopTimeout = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        return new LibvirtDomainDriver(options, time);
    }

    internal static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];

    internal static string NewRuntimeId() => "rt_" + Guid.NewGuid().ToString("N")[..12];

    internal static RuntimeCreateRequest Request(string name, string? size = "nano", IReadOnlyDictionary<string, string>? labels = null, RuntimeSpec? spec = null) =>
        new()
        {
            Name = name,
            Type = RuntimeType.Vm,
            TenantId = "tenant-a",
            Labels = labels ?? new Dictionary<string, string> { ["env"] = "test", ["team"] = "core" },
            Spec = spec ?? new RuntimeSpec { Size = size },
        };

    internal static async Task<T> ThrowsDriverAsync<T>(Func<Task<T>> action, string code)
    {
        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(action);
        Assert.Equal(code, ex.Code);
        return default!;
    }

    internal static async Task<RuntimeDriverException> FailsWithAsync(Func<Task> action, string code)
    {
        var ex = await Assert.ThrowsAsync<RuntimeDriverException>(action);
        Assert.True(code == ex.Code, $"expected code {code} but got {ex.Code}: {ex.Message}");
        return ex;
    }
}
