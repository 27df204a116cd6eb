using System.Text;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Object names the API accepts (RFC 1123 subdomains) from names that may not be, e.g. <c>auto-before-op_01ABC-3</c>.</summary>
internal static class KubeNames
{
    public static string ObjectName(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            sb.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '.' ? c : '-');
        }

        var name = sb.ToString().Trim('-', '.');
        return name.Length > 253 ? name[..253].TrimEnd('-', '.') : name;
    }
}
