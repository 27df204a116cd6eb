using System.Globalization;
using System.Xml.Linq;

namespace RuntimeAI.Drivers.Libvirt;

/// <summary>What this driver records about a runtime inside the domain's &lt;metadata&gt; element.</summary>
internal sealed record RuntimeMetadata(
    string? RuntimeId,
    string? TenantId,
    IReadOnlyDictionary<string, string> Labels,
    string? Size,
    string? ManagedDiskPath);

/// <summary>How a new domain is wired to a network.</summary>
internal enum NetworkAttachment
{
    None,
    UserMode,
    LibvirtNetwork,
}

/// <summary>Everything needed to write a domain definition.</summary>
internal sealed record DomainDefinition(
    string Name,
    string DomainType,
    string? Arch,
    int Vcpus,
    int MaxVcpus,
    long MemoryMiB,
    string? DiskPath,
    NetworkAttachment Network,
    string? NetworkName,
    RuntimeMetadata Metadata);

/// <summary>The parts of a domain's XML description the driver reads back.</summary>
internal sealed record DomainDescription(
    string Name,
    string Uuid,
    int Vcpus,
    int MaxVcpus,
    long MemoryMiB,
    long MaxMemoryMiB,
    IReadOnlyList<string> DiskPaths,
    RuntimeMetadata? Metadata);

/// <summary>Writes and reads libvirt domain and snapshot XML.</summary>
internal static class DomainXml
{
    /// <summary>Our own metadata namespace; libvirt keeps one element per namespace and preserves it across restarts.</summary>
    internal const string MetadataNamespace = "https://runtimeai.dev/xmlns/libvirt-runtime/1";
    internal const string MetadataPrefix = "runtimeai";
    private static readonly XNamespace s_ns = MetadataNamespace;

    internal static string Build(DomainDefinition d)
    {
        var osType = new XElement("type", "hvm");
        if (d.Arch is not null)
        {
            osType.SetAttributeValue("arch", d.Arch);
        }

        var devices = new XElement("devices");
        if (d.DiskPath is not null)
        {
            devices.Add(new XElement("disk",
                new XAttribute("type", "file"),
                new XAttribute("device", "disk"),
                new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", "qcow2")),
                new XElement("source", new XAttribute("file", d.DiskPath)),
                new XElement("target", new XAttribute("dev", "vda"), new XAttribute("bus", "virtio"))));
        }

        switch (d.Network)
        {
            case NetworkAttachment.UserMode:
                devices.Add(new XElement("interface", new XAttribute("type", "user"),
                    new XElement("model", new XAttribute("type", "virtio"))));
                break;
            case NetworkAttachment.LibvirtNetwork:
                devices.Add(new XElement("interface", new XAttribute("type", "network"),
                    new XElement("source", new XAttribute("network", d.NetworkName ?? "default")),
                    new XElement("model", new XAttribute("type", "virtio"))));
                break;
        }

        devices.Add(new XElement("memballoon", new XAttribute("model", "virtio")));

        var vcpu = new XElement("vcpu", new XAttribute("placement", "static"), d.MaxVcpus.ToString(CultureInfo.InvariantCulture));
        if (d.MaxVcpus != d.Vcpus)
        {
            vcpu.SetAttributeValue("current", d.Vcpus);
        }

        var domain = new XElement("domain",
            new XAttribute("type", d.DomainType),
            new XElement("name", d.Name),
            new XElement("metadata", BuildMetadata(d.Metadata)),
            new XElement("memory", new XAttribute("unit", "MiB"), d.MemoryMiB),
            new XElement("currentMemory", new XAttribute("unit", "MiB"), d.MemoryMiB),
            vcpu,
            new XElement("os", osType, new XElement("boot", new XAttribute("dev", "hd"))),
            new XElement("features", new XElement("acpi")),
            new XElement("on_poweroff", "destroy"),
            new XElement("on_reboot", "restart"),
            new XElement("on_crash", "destroy"),
            devices);
        return domain.ToString(SaveOptions.DisableFormatting);
    }

    internal static XElement BuildMetadata(RuntimeMetadata m)
    {
        var root = new XElement(s_ns + "runtime", new XAttribute(XNamespace.Xmlns + MetadataPrefix, MetadataNamespace));
        if (m.RuntimeId is not null)
        {
            root.Add(new XElement(s_ns + "id", m.RuntimeId));
        }

        if (m.TenantId is not null)
        {
            root.Add(new XElement(s_ns + "tenant", m.TenantId));
        }

        if (m.Size is not null)
        {
            root.Add(new XElement(s_ns + "size", m.Size));
        }

        if (m.Labels.Count > 0)
        {
            root.Add(new XElement(s_ns + "labels",
                m.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => new XElement(s_ns + "label", new XAttribute("key", kv.Key), kv.Value))));
        }

        if (m.ManagedDiskPath is not null)
        {
            root.Add(new XElement(s_ns + "disk", new XAttribute("managed", "true"), m.ManagedDiskPath));
        }

        return root;
    }

    internal static DomainDescription Parse(string xml)
    {
        var domain = XElement.Parse(xml);
        var vcpu = domain.Element("vcpu");
        var maxVcpus = ParseInt(vcpu?.Value, 1);
        var currentVcpus = ParseInt((string?)vcpu?.Attribute("current"), maxVcpus);
        var memory = ToMiB(domain.Element("memory"));
        var current = domain.Element("currentMemory") is { } cm ? ToMiB(cm) : memory;
        var disks = domain.Element("devices")?.Elements("disk")
            .Where(e => (string?)e.Attribute("device") is null or "disk")
            .Select(e => (string?)e.Element("source")?.Attribute("file"))
            .Where(p => !string.IsNullOrEmpty(p))
            .Select(p => p!)
            .ToArray() ?? [];
        var metadataElement = domain.Element("metadata")?.Element(s_ns + "runtime");
        return new DomainDescription(
            domain.Element("name")?.Value ?? "",
            domain.Element("uuid")?.Value ?? "",
            currentVcpus,
            maxVcpus,
            current,
            memory,
            disks,
            metadataElement is null ? null : ParseMetadata(metadataElement));
    }

    private static RuntimeMetadata ParseMetadata(XElement e)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in e.Element(s_ns + "labels")?.Elements(s_ns + "label") ?? [])
        {
            if ((string?)label.Attribute("key") is { } key)
            {
                labels[key] = label.Value;
            }
        }

        return new RuntimeMetadata(
            e.Element(s_ns + "id")?.Value,
            e.Element(s_ns + "tenant")?.Value,
            labels,
            e.Element(s_ns + "size")?.Value,
            e.Element(s_ns + "disk")?.Value);
    }

    private static int ParseInt(string? text, int fallback) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static long ToMiB(XElement? e)
    {
        if (e is null || !long.TryParse(e.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return 0;
        }

        var unit = ((string?)e.Attribute("unit") ?? "KiB").ToUpperInvariant();
        double bytes = unit switch
        {
            "B" or "BYTES" => value,
            "K" or "KIB" => value * 1024d,
            "KB" => value * 1000d,
            "M" or "MIB" => value * 1024d * 1024,
            "MB" => value * 1e6,
            "G" or "GIB" => value * 1024d * 1024 * 1024,
            "GB" => value * 1e9,
            _ => value * 1024d,
        };
        return (long)Math.Ceiling(bytes / (1024d * 1024));
    }

    internal static string BuildSnapshot(string name, string? description)
    {
        var e = new XElement("domainsnapshot", new XElement("name", name));
        if (!string.IsNullOrEmpty(description))
        {
            e.Add(new XElement("description", description));
        }

        return e.ToString(SaveOptions.DisableFormatting);
    }

    internal static (string? Description, long CreationTime, string State) ParseSnapshot(string xml)
    {
        var e = XElement.Parse(xml);
        _ = long.TryParse(e.Element("creationTime")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var created);
        return (e.Element("description")?.Value, created, e.Element("state")?.Value ?? "shutoff");
    }

    internal static string BuildDirPool(string name, string path) =>
        new XElement("pool", new XAttribute("type", "dir"),
            new XElement("name", name),
            new XElement("target", new XElement("path", path))).ToString(SaveOptions.DisableFormatting);

    internal static string BuildQcow2Volume(string name, long capacityMiB) =>
        new XElement("volume",
            new XElement("name", name),
            new XElement("capacity", new XAttribute("unit", "MiB"), capacityMiB),
            new XElement("target", new XElement("format", new XAttribute("type", "qcow2")))).ToString(SaveOptions.DisableFormatting);

    /// <summary>Picks the guest architecture and the best domain type (kvm, then qemu, then test) from the capabilities XML.</summary>
    internal static (string DomainType, string? Arch) PickGuest(string capabilitiesXml)
    {
        var caps = XElement.Parse(capabilitiesXml);
        var hostArch = caps.Element("host")?.Element("cpu")?.Element("arch")?.Value;
        var guests = caps.Elements("guest")
            .Where(g => g.Element("os_type")?.Value == "hvm")
            .Select(g => g.Element("arch"))
            .Where(a => a is not null)
            .Select(a => (Arch: (string?)a!.Attribute("name"), Types: a.Elements("domain").Select(d => (string?)d.Attribute("type") ?? "").ToArray()))
            .OrderByDescending(g => g.Arch == hostArch)
            .ToArray();
        foreach (var preferred in new[] { "kvm", "qemu", "test" })
        {
            foreach (var g in guests)
            {
                if (g.Types.Contains(preferred))
                {
                    return (preferred, g.Arch);
                }
            }
        }

        return guests.Length > 0 && guests[0].Types.Length > 0 ? (guests[0].Types[0], guests[0].Arch) : ("qemu", null);
    }
}
