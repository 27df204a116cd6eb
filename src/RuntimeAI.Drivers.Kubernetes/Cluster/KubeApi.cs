using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using k8s.Models;

namespace RuntimeAI.Drivers.Kubernetes.Cluster;

/// <summary>Sends one request to the API server and returns the body of a successful answer.</summary>
/// <param name="method">HTTP method.</param>
/// <param name="path">API path with its query string.</param>
/// <param name="payload">Request body, or null.</param>
/// <param name="contentType">Content type of the body.</param>
/// <param name="cancellationToken">Cancels the request.</param>
/// <returns>The answer's body (empty when there was none).</returns>
internal delegate Task<string> KubeExchange(HttpMethod method, string path, string? payload, string contentType, CancellationToken cancellationToken);

/// <summary>
/// The typed Kubernetes operations the drivers call, with the names and parameters of
/// KubernetesClient's <c>k8s.Kubernetes</c> operations, on the library's models
/// (<c>k8s.Models</c>), sent by <see cref="KubeCluster"/> with the kubeconfig's credentials.
/// </summary>
/// <remarks>
/// It stands in for <c>k8s.Kubernetes</c> for one reason, measured: constructing that class roots
/// the library's JSON serializer context, which holds every model of the Kubernetes API (about
/// 1,500 types). In the NativeAOT binary that was more than half of all type data, rehydrated at
/// every start of every stdio session (docs/performance.md, "the Kubernetes client's share").
/// Here only the models these operations name, and what they contain, are compiled in
/// (<see cref="KubeModelJson"/>). The requests are the ones the library sends: same paths, query
/// parameters and content types. Add an operation here, and its model to <see cref="KubeModelJson"/>,
/// when a driver needs one more.
/// </remarks>
public sealed class KubeApi
{
    internal KubeApi(KubeExchange exchange)
    {
        CoreV1 = new KubeCoreV1Api(exchange);
        AppsV1 = new KubeAppsV1Api(exchange);
        PolicyV1 = new KubePolicyV1Api(exchange);
    }

    /// <summary>The core API group (<c>/api/v1</c>).</summary>
    public KubeCoreV1Api CoreV1 { get; }

    /// <summary>The <c>apps/v1</c> API group.</summary>
    public KubeAppsV1Api AppsV1 { get; }

    /// <summary>The <c>policy/v1</c> API group.</summary>
    public KubePolicyV1Api PolicyV1 { get; }
}

/// <summary>Request building, serialization and parsing shared by the API groups.</summary>
public abstract class KubeApiGroup
{
    private const string Json = "application/json";
    private readonly KubeExchange _exchange;

    private protected KubeApiGroup(KubeExchange exchange) => _exchange = exchange;

    private protected async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        Parse(await _exchange(HttpMethod.Get, path, null, Json, cancellationToken).ConfigureAwait(false), type, path);

    private protected async Task<T> CreateAsync<T>(string path, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var text = await _exchange(HttpMethod.Post, path, JsonSerializer.Serialize(body, type), Json, cancellationToken).ConfigureAwait(false);
        return Parse(text, type, path);
    }

    private protected async Task<T> PatchAsync<T>(string path, V1Patch patch, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var contentType = patch.Type switch
        {
            V1Patch.PatchType.MergePatch => "application/merge-patch+json",
            V1Patch.PatchType.StrategicMergePatch => "application/strategic-merge-patch+json",
            V1Patch.PatchType.JsonPatch => "application/json-patch+json",
            _ => throw new ArgumentException($"patch type {patch.Type} is not sent by this client; use a merge, strategic merge or JSON patch", nameof(patch)),
        };
        var payload = patch.Content as string
            ?? throw new ArgumentException("the patch's content must be its JSON text", nameof(patch));
        var text = await _exchange(HttpMethod.Patch, path, payload, contentType, cancellationToken).ConfigureAwait(false);
        return Parse(text, type, path);
    }

    /// <summary>DELETE; returns the answer as JSON text (the deleted object or a Status: callers do not need it).</summary>
    private protected Task<string> DeleteAsync(string path, CancellationToken cancellationToken) =>
        _exchange(HttpMethod.Delete, path, null, Json, cancellationToken);

    /// <summary>A path with its query parameters; parameters without a value are left out.</summary>
    private protected static string WithQuery(string path, string? labelSelector = null, string? propagationPolicy = null)
    {
        var query = new StringBuilder();
        Add(query, "labelSelector", labelSelector);
        Add(query, "propagationPolicy", propagationPolicy);
        return query.Length == 0 ? path : path + "?" + query.ToString(1, query.Length - 1);

        static void Add(StringBuilder query, string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }
    }

    /// <summary>One path segment (a name or namespace), escaped.</summary>
    private protected static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    private static T Parse<T>(string text, JsonTypeInfo<T> type, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(text, type)
                ?? throw new InvalidDataException($"the Kubernetes API answered {path} without a body");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"the Kubernetes API answered {path} with JSON that is not a {typeof(T).Name}: {ex.Message}"), ex);
        }
    }
}

/// <summary>Operations of the core API group the drivers use (names as in KubernetesClient).</summary>
public sealed class KubeCoreV1Api : KubeApiGroup
{
    internal KubeCoreV1Api(KubeExchange exchange)
        : base(exchange)
    {
    }

    private static string Namespaced(string ns, string resource) => $"/api/v1/namespaces/{Segment(ns)}/{resource}";

    private static string Namespaced(string ns, string resource, string name) => $"/api/v1/namespaces/{Segment(ns)}/{resource}/{Segment(name)}";

    // One line each: the operation's name says what it does, as in KubernetesClient.
    public Task<V1PodList> ListNamespacedPodAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "pods"), labelSelector), KubeModelJson.Default.V1PodList, cancellationToken);

    public Task<V1PodList> ListPodForAllNamespacesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery("/api/v1/pods", labelSelector), KubeModelJson.Default.V1PodList, cancellationToken);

    public Task<string> DeleteCollectionNamespacedPodAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(WithQuery(Namespaced(namespaceParameter, "pods"), labelSelector), cancellationToken);

    public Task<V1NodeList> ListNodeAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery("/api/v1/nodes", labelSelector), KubeModelJson.Default.V1NodeList, cancellationToken);

    public Task<V1Namespace> ReadNamespaceAsync(string name, CancellationToken cancellationToken = default) =>
        GetAsync($"/api/v1/namespaces/{Segment(name)}", KubeModelJson.Default.V1Namespace, cancellationToken);

    public Task<V1Namespace> CreateNamespaceAsync(V1Namespace body, CancellationToken cancellationToken = default) =>
        CreateAsync("/api/v1/namespaces", body, KubeModelJson.Default.V1Namespace, cancellationToken);

    public Task<string> DeleteNamespaceAsync(string name, CancellationToken cancellationToken = default) =>
        DeleteAsync($"/api/v1/namespaces/{Segment(name)}", cancellationToken);

    public Task<V1ServiceAccount> CreateNamespacedServiceAccountAsync(V1ServiceAccount body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        CreateAsync(Namespaced(namespaceParameter, "serviceaccounts"), body, KubeModelJson.Default.V1ServiceAccount, cancellationToken);

    public Task<string> DeleteNamespacedServiceAccountAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        DeleteAsync(Namespaced(namespaceParameter, "serviceaccounts", name), cancellationToken);

    public Task<V1Secret> ReadNamespacedSecretAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced(namespaceParameter, "secrets", name), KubeModelJson.Default.V1Secret, cancellationToken);

    public Task<V1SecretList> ListNamespacedSecretAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "secrets"), labelSelector), KubeModelJson.Default.V1SecretList, cancellationToken);

    public Task<V1Secret> CreateNamespacedSecretAsync(V1Secret body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        CreateAsync(Namespaced(namespaceParameter, "secrets"), body, KubeModelJson.Default.V1Secret, cancellationToken);

    public Task<string> DeleteNamespacedSecretAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        DeleteAsync(Namespaced(namespaceParameter, "secrets", name), cancellationToken);

    public Task<string> DeleteCollectionNamespacedSecretAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(WithQuery(Namespaced(namespaceParameter, "secrets"), labelSelector), cancellationToken);

    public Task<V1ConfigMap> ReadNamespacedConfigMapAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced(namespaceParameter, "configmaps", name), KubeModelJson.Default.V1ConfigMap, cancellationToken);

    public Task<V1ConfigMapList> ListNamespacedConfigMapAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "configmaps"), labelSelector), KubeModelJson.Default.V1ConfigMapList, cancellationToken);

    public Task<V1ConfigMap> CreateNamespacedConfigMapAsync(V1ConfigMap body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        CreateAsync(Namespaced(namespaceParameter, "configmaps"), body, KubeModelJson.Default.V1ConfigMap, cancellationToken);

    public Task<string> DeleteNamespacedConfigMapAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        DeleteAsync(Namespaced(namespaceParameter, "configmaps", name), cancellationToken);

    public Task<string> DeleteCollectionNamespacedConfigMapAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(WithQuery(Namespaced(namespaceParameter, "configmaps"), labelSelector), cancellationToken);

    public Task<V1ServiceList> ListNamespacedServiceAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "services"), labelSelector), KubeModelJson.Default.V1ServiceList, cancellationToken);

    public Task<V1Service> CreateNamespacedServiceAsync(V1Service body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        CreateAsync(Namespaced(namespaceParameter, "services"), body, KubeModelJson.Default.V1Service, cancellationToken);

    public Task<string> DeleteNamespacedServiceAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        DeleteAsync(Namespaced(namespaceParameter, "services", name), cancellationToken);

    public Task<V1PersistentVolumeClaimList> ListNamespacedPersistentVolumeClaimAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "persistentvolumeclaims"), labelSelector), KubeModelJson.Default.V1PersistentVolumeClaimList, cancellationToken);

    public Task<string> DeleteNamespacedPersistentVolumeClaimAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        DeleteAsync(Namespaced(namespaceParameter, "persistentvolumeclaims", name), cancellationToken);

    public Task<V1ResourceQuotaList> ListNamespacedResourceQuotaAsync(string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced(namespaceParameter, "resourcequotas"), KubeModelJson.Default.V1ResourceQuotaList, cancellationToken);
}

/// <summary>Operations of the <c>apps/v1</c> API group the drivers use (names as in KubernetesClient).</summary>
public sealed class KubeAppsV1Api : KubeApiGroup
{
    internal KubeAppsV1Api(KubeExchange exchange)
        : base(exchange)
    {
    }

    private static string Namespaced(string ns, string resource) => $"/apis/apps/v1/namespaces/{Segment(ns)}/{resource}";

    private static string Namespaced(string ns, string resource, string name) => $"/apis/apps/v1/namespaces/{Segment(ns)}/{resource}/{Segment(name)}";

    // One line each: the operation's name says what it does, as in KubernetesClient.
    public Task<V1StatefulSetList> ListStatefulSetForAllNamespacesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery("/apis/apps/v1/statefulsets", labelSelector), KubeModelJson.Default.V1StatefulSetList, cancellationToken);

    public Task<V1StatefulSetList> ListNamespacedStatefulSetAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "statefulsets"), labelSelector), KubeModelJson.Default.V1StatefulSetList, cancellationToken);

    public Task<V1StatefulSet> CreateNamespacedStatefulSetAsync(V1StatefulSet body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        CreateAsync(Namespaced(namespaceParameter, "statefulsets"), body, KubeModelJson.Default.V1StatefulSet, cancellationToken);

    public Task<V1StatefulSet> PatchNamespacedStatefulSetAsync(V1Patch body, string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        PatchAsync(Namespaced(namespaceParameter, "statefulsets", name), body, KubeModelJson.Default.V1StatefulSet, cancellationToken);

    public Task<string> DeleteNamespacedStatefulSetAsync(string name, string namespaceParameter, string? propagationPolicy = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(WithQuery(Namespaced(namespaceParameter, "statefulsets", name), propagationPolicy: propagationPolicy), cancellationToken);

    public Task<V1DeploymentList> ListDeploymentForAllNamespacesAsync(string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery("/apis/apps/v1/deployments", labelSelector), KubeModelJson.Default.V1DeploymentList, cancellationToken);

    public Task<V1DeploymentList> ListNamespacedDeploymentAsync(string namespaceParameter, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(WithQuery(Namespaced(namespaceParameter, "deployments"), labelSelector), KubeModelJson.Default.V1DeploymentList, cancellationToken);

    public Task<V1Deployment> PatchNamespacedDeploymentAsync(V1Patch body, string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        PatchAsync(Namespaced(namespaceParameter, "deployments", name), body, KubeModelJson.Default.V1Deployment, cancellationToken);

    public Task<string> DeleteNamespacedDeploymentAsync(string name, string namespaceParameter, string? propagationPolicy = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(WithQuery(Namespaced(namespaceParameter, "deployments", name), propagationPolicy: propagationPolicy), cancellationToken);
}

/// <summary>Operations of the <c>policy/v1</c> API group the drivers use (names as in KubernetesClient).</summary>
public sealed class KubePolicyV1Api : KubeApiGroup
{
    internal KubePolicyV1Api(KubeExchange exchange)
        : base(exchange)
    {
    }

    // One line each: the operation's name says what it does, as in KubernetesClient.
    public Task<V1PodDisruptionBudgetList> ListNamespacedPodDisruptionBudgetAsync(string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync($"/apis/policy/v1/namespaces/{Segment(namespaceParameter)}/poddisruptionbudgets", KubeModelJson.Default.V1PodDisruptionBudgetList, cancellationToken);
}
