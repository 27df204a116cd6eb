using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RuntimeAI.Host;

/// <summary>
/// What <c>runtimeai --version</c> prints: the version, the git commit the build was made from and
/// the build flavour. The commit is stamped at build time by the SDK's source control integration
/// (SourceRevisionId, appended to the informational version as <c>+sha</c>); a build outside a git
/// clone has none and says <c>unknown</c>. The flavour is read at run time: NativeAOT cannot
/// generate code.
/// </summary>
internal static class BuildInfo
{
    private static readonly string s_informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The version without build metadata, e.g. <c>0.1.0</c>.</summary>
    public static string Version => s_informational.Split('+')[0];

    /// <summary>The full commit id, or <c>unknown</c>.</summary>
    public static string Commit => s_informational.Split('+') is [_, var sha, ..] && sha.Length > 0 ? sha : "unknown";

    /// <summary><c>aot</c> for the NativeAOT binary, <c>jit</c> otherwise.</summary>
    public static string Flavour => RuntimeFeature.IsDynamicCodeSupported ? "jit" : "aot";

    /// <summary>The one line <c>runtimeai --version</c> prints.</summary>
    public static string Describe() =>
        $"runtimeai {Version} commit {Commit} build {Flavour} ({RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier})";
}
