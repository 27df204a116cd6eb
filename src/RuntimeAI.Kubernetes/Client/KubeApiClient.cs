using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RuntimeAI.Kubernetes.Auth;
using RuntimeAI.Kubernetes.Config;
using RuntimeAI.Kubernetes.Model;

namespace RuntimeAI.Kubernetes.Client;

/// <summary>
/// A Kubernetes REST client for the operations the drivers need: discovery, get/list (paged),
/// create, replace, patch, server-side apply, delete, scale, subresources, watch, Table listings,
/// eviction and logs. Thread-safe; create one per connection and dispose it.
/// </summary>
/// <remarks>
/// For namespaced types, object operations use the namespace of the object or argument, else
/// <see cref="DefaultNamespace"/>; list and watch with a <see langword="null"/> namespace span all
/// namespaces. Reads, replaces, deletes, merge/strategic patches and applies are retried on 429,
/// 5xx, timeouts and connection errors; creates, JSON patches, evictions and POST subresources are
/// retried only when the connection could not be made.
/// </remarks>
public sealed partial class KubeApiClient : IDisposable
{
    private const string JsonMediaType = "application/json";
    private const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json";
    private readonly KubeHttpTransport _transport;
    private readonly KubeApiClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, IReadOnlyList<KubeResourceType>> _discovery = new(StringComparer.Ordinal);

    /// <summary>Creates a client for a connection.</summary>
    /// <param name="connection">Where and as whom (from <see cref="KubeConfigLoader"/>).</param>
    /// <param name="options">Timeouts and retries; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">Clock for backoff, token expiry and timeouts; the system clock when <see langword="null"/>.</param>
    /// <param name="logger">Receives one debug line per request (method, path, status; never headers or bodies).</param>
    /// <exception cref="KubeConfigException">The connection's TLS material is unusable.</exception>
    public KubeApiClient(KubeConnection connection, KubeApiClientOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
        : this(connection, handler: null, options, timeProvider, logger, ownsTls: true)
    {
    }

    /// <summary>Creates a client over a caller-supplied handler (an in-process simulator, a test double, a proxy).</summary>
    /// <param name="connection">Server URL, namespace and credentials; its TLS settings are ignored (the handler owns TLS).</param>
    /// <param name="handler">The handler; the client disposes it.</param>
    /// <param name="options">Timeouts and retries.</param>
    /// <param name="timeProvider">Clock.</param>
    /// <param name="logger">Logger.</param>
    public KubeApiClient(KubeConnection connection, HttpMessageHandler handler, KubeApiClientOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
        : this(connection, handler ?? throw new ArgumentNullException(nameof(handler)), options, timeProvider, logger, ownsTls: false)
    {
    }

    private KubeApiClient(KubeConnection connection, HttpMessageHandler? handler, KubeApiClientOptions? options, TimeProvider? timeProvider, ILogger? logger, bool ownsTls)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _options = options ?? new KubeApiClientOptions();
        _options.Validate();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Connection = connection;
        var credentials = KubeCredentialSource.For(connection, _timeProvider);

        // An exec plugin may hand out a client certificate: the TLS layer asks the credential source for it at handshake time.
        handler ??= ownsTls ? KubeTlsHandler.Create(connection, credentials as ExecCredentialSource) : throw new ArgumentNullException(nameof(handler));
        _transport = new KubeHttpTransport(connection.Server, handler, credentials, _options, _timeProvider, _logger);
    }

    /// <summary>The connection this client uses.</summary>
    public KubeConnection Connection { get; }

    /// <summary>The namespace used when an operation on a namespaced type names none.</summary>
    public string DefaultNamespace => Connection.Namespace;

    internal KubeCredentialSource Credentials => _transport.Credentials;

    /// <summary>Reads <c>/version</c>.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The version object (<c>gitVersion</c>, <c>major</c>, <c>minor</c>, ...).</returns>
    public async Task<JsonObject> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        var node = await SendJsonAsync(new KubeRequest(HttpMethod.Get, "/version", "get server version"), cancellationToken).ConfigureAwait(false);
        return node as JsonObject ?? [];
    }

    /// <summary>
    /// Finds how the server addresses a kind or resource name in a group version, through discovery
    /// (cached per group version).
    /// </summary>
    /// <param name="apiVersion">e.g. <c>apps/v1</c>.</param>
    /// <param name="kindOrResource">A kind (<c>Deployment</c>), plural (<c>deployments</c>), singular or short name (<c>deploy</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The resource type.</returns>
    /// <exception cref="KubeNotFoundException">The server does not serve it.</exception>
    public async Task<KubeResourceType> ResolveAsync(string apiVersion, string kindOrResource, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiVersion);
        ArgumentException.ThrowIfNullOrEmpty(kindOrResource);
        var resources = await DiscoverAsync(apiVersion, cancellationToken).ConfigureAwait(false);
        var match = resources.FirstOrDefault(r => string.Equals(r.Kind, kindOrResource, StringComparison.Ordinal))
            ?? resources.FirstOrDefault(r => string.Equals(r.Plural, kindOrResource, StringComparison.OrdinalIgnoreCase))
            ?? resources.FirstOrDefault(r => string.Equals(r.Kind, kindOrResource, StringComparison.OrdinalIgnoreCase));
        if (match is null && s_shortNames.TryGetValue(apiVersion, out var aliases) && aliases.TryGetValue(kindOrResource.ToLowerInvariant(), out var plural))
        {
            match = resources.FirstOrDefault(r => string.Equals(r.Plural, plural, StringComparison.Ordinal));
        }

        return match ?? throw new KubeNotFoundException(
            $"resolve {kindOrResource} in {apiVersion} failed: the server does not serve a resource '{kindOrResource}' in {apiVersion}",
            new KubeStatus { Reason = "NotFound", Code = 404 });
    }

    /// <summary>Reads one object.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="namespace">The namespace (namespaced types); <see cref="DefaultNamespace"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The object.</returns>
    /// <exception cref="KubeNotFoundException">It does not exist.</exception>
    public async Task<KubeObject> GetAsync(KubeResourceType type, string name, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var ns = ObjectNamespace(type, @namespace);
        var node = await SendJsonAsync(new KubeRequest(HttpMethod.Get, type.GetPath(ns, name), $"get {type.Describe(ns, name)}"), cancellationToken).ConfigureAwait(false);
        return ToObject(node, type);
    }

    /// <summary>Reads one object, or returns <see langword="null"/> when it does not exist.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The object or <see langword="null"/>.</returns>
    public async Task<KubeObject?> TryGetAsync(KubeResourceType type, string name, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetAsync(type, name, @namespace, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Lists one page of objects.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="namespace">The namespace; <see langword="null"/> lists across all namespaces.</param>
    /// <param name="options">Selectors, page size and continue token.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The page; each item has <c>apiVersion</c> and <c>kind</c> filled in.</returns>
    /// <exception cref="KubeGoneException">The continue token expired; list again from the start.</exception>
    public async Task<KubeList> ListAsync(KubeResourceType type, string? @namespace = null, KubeListOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        var path = type.GetPath(@namespace) + ListQuery(options);
        var node = await SendJsonAsync(new KubeRequest(HttpMethod.Get, path, $"list {type.Describe(@namespace, null)}"), cancellationToken).ConfigureAwait(false);
        var list = node as JsonObject ?? [];
        var items = new List<KubeObject>();
        if (list["items"] is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is JsonObject obj)
                {
                    items.Add(ToObject(obj.DeepClone(), type));
                }
            }
        }

        var meta = KubeObject.Read(list["metadata"], KubeJsonContext.Default.ListMeta) ?? new ListMeta();
        return new KubeList(items, meta.ResourceVersion, string.IsNullOrEmpty(meta.Continue) ? null : meta.Continue, meta.RemainingItemCount);
    }

    /// <summary>Lists every object, following continue tokens page by page.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="namespace">The namespace; <see langword="null"/> for all namespaces.</param>
    /// <param name="options">Selectors; <see cref="KubeListOptions.Limit"/> is the page size (500 when unset).</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The objects, streamed.</returns>
    public async IAsyncEnumerable<KubeObject> ListAllAsync(KubeResourceType type, string? @namespace = null, KubeListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var page = (options ?? new KubeListOptions()) with { Continue = null };
        page = page with { Limit = page.Limit ?? 500 };
        while (true)
        {
            var list = await ListAsync(type, @namespace, page, cancellationToken).ConfigureAwait(false);
            foreach (var item in list.Items)
            {
                yield return item;
            }

            if (list.Continue is null)
            {
                yield break;
            }

            page = page with { Continue = list.Continue };
        }
    }

    /// <summary>Lists as a server-rendered Table (the compact rows kubectl prints).</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="namespace">The namespace; <see langword="null"/> for all namespaces.</param>
    /// <param name="options">Selectors and paging.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The table.</returns>
    /// <exception cref="KubeApiException">The server answered with something other than a Table.</exception>
    public async Task<KubeTable> ListTableAsync(KubeResourceType type, string? @namespace = null, KubeListOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        var path = type.GetPath(@namespace) + ListQuery(options);
        var operation = $"list {type.Describe(@namespace, null)} as table";
        var node = await SendJsonAsync(new KubeRequest(HttpMethod.Get, path, operation) { Accept = TableAccept }, cancellationToken).ConfigureAwait(false);
        if (node is not JsonObject obj || !string.Equals(KubeObject.GetString(obj, "kind"), "Table", StringComparison.Ordinal))
        {
            throw new KubeApiException($"{operation} failed: the server did not return a Table");
        }

        return obj.Deserialize(KubeJsonContext.Default.KubeTable) ?? new KubeTable();
    }

    /// <summary>Creates an object.</summary>
    /// <param name="obj">The object; <c>apiVersion</c> and <c>kind</c> pick the type when <paramref name="type"/> is <see langword="null"/>.</param>
    /// <param name="options">Dry run and field manager.</param>
    /// <param name="type">The resource type, to skip discovery.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The object as stored (uid, resourceVersion, defaults).</returns>
    /// <exception cref="KubeConflictException">It already exists (<see cref="KubeConflictException.AlreadyExists"/>).</exception>
    public async Task<KubeObject> CreateAsync(KubeObject obj, KubeWriteOptions? options = null, KubeResourceType? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        type ??= await ResolveAsync(obj, cancellationToken).ConfigureAwait(false);
        var ns = ObjectNamespace(type, obj.Namespace);
        var request = new KubeRequest(HttpMethod.Post, type.GetPath(ns) + WriteQuery(options?.DryRun == true, options?.FieldManager, null), $"create {type.Describe(ns, obj.Name)}")
        {
            Body = Encoding.UTF8.GetBytes(obj.Json.ToJsonString()),
            ContentType = JsonMediaType,
            Idempotent = false,
        };
        return ToObject(await SendJsonAsync(request, cancellationToken).ConfigureAwait(false), type);
    }

    /// <summary>
    /// Replaces an object (PUT). When <see cref="KubeObject.ResourceVersion"/> is set the write is
    /// conditional: a concurrent change yields <see cref="KubeConflictException"/>; re-read and retry.
    /// </summary>
    /// <param name="obj">The full new object.</param>
    /// <param name="options">Dry run and field manager.</param>
    /// <param name="type">The resource type, to skip discovery.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The stored object.</returns>
    public async Task<KubeObject> ReplaceAsync(KubeObject obj, KubeWriteOptions? options = null, KubeResourceType? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentException.ThrowIfNullOrEmpty(obj.Name, "obj.metadata.name");
        type ??= await ResolveAsync(obj, cancellationToken).ConfigureAwait(false);
        var ns = ObjectNamespace(type, obj.Namespace);
        var request = new KubeRequest(HttpMethod.Put, type.GetPath(ns, obj.Name) + WriteQuery(options?.DryRun == true, options?.FieldManager, null), $"replace {type.Describe(ns, obj.Name)}")
        {
            Body = Encoding.UTF8.GetBytes(obj.Json.ToJsonString()),
            ContentType = JsonMediaType,
        };
        return ToObject(await SendJsonAsync(request, cancellationToken).ConfigureAwait(false), type);
    }

    /// <summary>
    /// Read-modify-write with optimistic concurrency: reads the object, applies
    /// <paramref name="mutate"/>, replaces it with the read resourceVersion, and on a 409 conflict
    /// starts over with a fresh read.
    /// </summary>
    /// <param name="type">The resource type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="mutate">Changes the object in place; return <see langword="false"/> to leave it unchanged (nothing is written).</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="options">Dry run and field manager.</param>
    /// <param name="maxAttempts">Attempts before the last conflict is rethrown.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The stored object (or the unchanged one when <paramref name="mutate"/> returned false).</returns>
    /// <exception cref="KubeConflictException">Still conflicting after <paramref name="maxAttempts"/> attempts.</exception>
    public async Task<KubeObject> UpdateAsync(KubeResourceType type, string name, Func<KubeObject, bool> mutate, string? @namespace = null, KubeWriteOptions? options = null, int maxAttempts = 5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mutate);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync(type, name, @namespace, cancellationToken).ConfigureAwait(false);
            if (!mutate(current))
            {
                return current;
            }

            try
            {
                return await ReplaceAsync(current, options, type, cancellationToken).ConfigureAwait(false);
            }
            catch (KubeConflictException) when (attempt < maxAttempts)
            {
                _logger.LogDebug("Conflict updating {Resource} {Name}; re-reading (attempt {Attempt})", type.Plural, name, attempt);
            }
        }
    }

    /// <summary>Patches an object.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="patchType">Merge, JSON or strategic merge.</param>
    /// <param name="patch">The patch document (an object, or an array for a JSON patch).</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="options">Dry run and field manager.</param>
    /// <param name="subresource">e.g. <c>status</c> or <c>scale</c>; <see langword="null"/> for the object.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The patched object.</returns>
    public async Task<KubeObject> PatchAsync(KubeResourceType type, string name, KubePatchType patchType, JsonNode patch, string? @namespace = null, KubeWriteOptions? options = null, string? subresource = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(patch);
        var ns = ObjectNamespace(type, @namespace);
        var contentType = patchType switch
        {
            KubePatchType.Merge => "application/merge-patch+json",
            KubePatchType.Json => "application/json-patch+json",
            KubePatchType.StrategicMerge => "application/strategic-merge-patch+json",
            _ => throw new ArgumentOutOfRangeException(nameof(patchType)),
        };
        var request = new KubeRequest(HttpMethod.Patch, type.GetPath(ns, name, subresource) + WriteQuery(options?.DryRun == true, options?.FieldManager, null), $"patch {type.Describe(ns, name)}")
        {
            Body = Encoding.UTF8.GetBytes(patch.ToJsonString()),
            ContentType = contentType,
            Idempotent = patchType != KubePatchType.Json,
        };
        return ToObject(await SendJsonAsync(request, cancellationToken).ConfigureAwait(false), type);
    }

    /// <summary>
    /// Server-side apply: the server merges the fields <paramref name="obj"/> sets and records
    /// <see cref="KubeApplyOptions.FieldManager"/> as their owner. Creates the object if missing.
    /// </summary>
    /// <param name="obj">The desired fields (a partial object with apiVersion, kind, name).</param>
    /// <param name="options">Field manager, force, dry run.</param>
    /// <param name="type">The resource type, to skip discovery.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The resulting object.</returns>
    /// <exception cref="KubeConflictException">Another manager owns a field and <see cref="KubeApplyOptions.Force"/> is false.</exception>
    public async Task<KubeObject> ApplyAsync(KubeObject obj, KubeApplyOptions options, KubeResourceType? type = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(obj.Name, "obj.metadata.name");
        ArgumentException.ThrowIfNullOrEmpty(options.FieldManager, "options.FieldManager");
        type ??= await ResolveAsync(obj, cancellationToken).ConfigureAwait(false);
        var ns = ObjectNamespace(type, obj.Namespace);
        var request = new KubeRequest(HttpMethod.Patch, type.GetPath(ns, obj.Name) + WriteQuery(options.DryRun, options.FieldManager, options.Force), $"apply {type.Describe(ns, obj.Name)}")
        {
            // JSON is YAML, and the apply content type is the YAML one.
            Body = Encoding.UTF8.GetBytes(obj.Json.ToJsonString()),
            ContentType = "application/apply-patch+yaml",
        };
        return ToObject(await SendJsonAsync(request, cancellationToken).ConfigureAwait(false), type);
    }

    /// <summary>Deletes an object.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="options">Propagation, grace period, preconditions, dry run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The object as it is now (e.g. with a deletionTimestamp while finalizers run), or <see langword="null"/> when the server returned a Status.</returns>
    /// <exception cref="KubeNotFoundException">It does not exist.</exception>
    public async Task<KubeObject?> DeleteAsync(KubeResourceType type, string name, string? @namespace = null, KubeDeleteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var ns = ObjectNamespace(type, @namespace);
        var request = new KubeRequest(HttpMethod.Delete, type.GetPath(ns, name) + WriteQuery(options?.DryRun == true, null, null), $"delete {type.Describe(ns, name)}")
        {
            Body = Encoding.UTF8.GetBytes(DeleteOptionsJson(options).ToJsonString()),
            ContentType = JsonMediaType,
        };
        var node = await SendJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return node is JsonObject obj && !string.Equals(KubeObject.GetString(obj, "kind"), "Status", StringComparison.Ordinal) ? ToObject(obj, type) : null;
    }

    /// <summary>Reads the scale subresource.</summary>
    /// <param name="type">A scalable type (Deployment, StatefulSet, ReplicaSet, ...).</param>
    /// <param name="name">The object name.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Desired and observed replicas.</returns>
    public async Task<Scale> GetScaleAsync(KubeResourceType type, string name, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var ns = ObjectNamespace(type, @namespace);
        var node = await SendJsonAsync(new KubeRequest(HttpMethod.Get, type.GetPath(ns, name, "scale"), $"get scale of {type.Describe(ns, name)}"), cancellationToken).ConfigureAwait(false);
        return KubeObject.Read(node, KubeJsonContext.Default.Scale) ?? new Scale();
    }

    /// <summary>
    /// Replaces the scale subresource (PUT). Keep <c>metadata.resourceVersion</c> from
    /// <see cref="GetScaleAsync"/> to make it conditional (409 on a concurrent change).
    /// </summary>
    /// <param name="type">A scalable type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="scale">The new scale.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="options">Dry run and field manager.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The stored scale.</returns>
    public async Task<Scale> ReplaceScaleAsync(KubeResourceType type, string name, Scale scale, string? @namespace = null, KubeWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(scale);
        var ns = ObjectNamespace(type, @namespace);
        var body = scale with { Metadata = (scale.Metadata ?? new ObjectMeta()) with { Name = name, Namespace = type.Namespaced ? ns : null } };
        var request = new KubeRequest(HttpMethod.Put, type.GetPath(ns, name, "scale") + WriteQuery(options?.DryRun == true, options?.FieldManager, null), $"scale {type.Describe(ns, name)}")
        {
            Body = JsonSerializer.SerializeToUtf8Bytes(body, KubeJsonContext.Default.Scale),
            ContentType = JsonMediaType,
        };
        var node = await SendJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return KubeObject.Read(node, KubeJsonContext.Default.Scale) ?? new Scale();
    }

    /// <summary>Sets the desired replicas through the scale subresource (a merge patch, as <c>kubectl scale</c> does).</summary>
    /// <param name="type">A scalable type.</param>
    /// <param name="name">The object name.</param>
    /// <param name="replicas">Desired replicas.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="options">Dry run and field manager.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The stored scale.</returns>
    public async Task<Scale> ScaleAsync(KubeResourceType type, string name, int replicas, string? @namespace = null, KubeWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(replicas);
        var ns = ObjectNamespace(type, @namespace);
        var patch = new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } };
        var request = new KubeRequest(HttpMethod.Patch, type.GetPath(ns, name, "scale") + WriteQuery(options?.DryRun == true, options?.FieldManager, null), $"scale {type.Describe(ns, name)} to {replicas}")
        {
            Body = Encoding.UTF8.GetBytes(patch.ToJsonString()),
            ContentType = "application/merge-patch+json",
        };
        var node = await SendJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return KubeObject.Read(node, KubeJsonContext.Default.Scale) ?? new Scale();
    }

    /// <summary>
    /// Calls a subresource, e.g. KubeVirt's <c>PUT .../virtualmachines/vm1/start</c> with
    /// <see cref="KubeResourceTypes.VirtualMachineSubresources"/>, or <c>PUT .../status</c>.
    /// </summary>
    /// <param name="method">GET, PUT, POST or PATCH (merge). POST is retried only on connect errors.</param>
    /// <param name="type">The type whose path the subresource hangs off.</param>
    /// <param name="name">The object name.</param>
    /// <param name="subresource">The subresource, e.g. <c>start</c>.</param>
    /// <param name="body">The body, or <see langword="null"/> for none.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="dryRun">Send <c>dryRun=All</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed response body, or <see langword="null"/> when it was empty or not JSON.</returns>
    public async Task<JsonNode?> SendSubresourceAsync(HttpMethod method, KubeResourceType type, string name, string subresource, JsonNode? body = null, string? @namespace = null, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(subresource);
        var ns = ObjectNamespace(type, @namespace);
        var request = new KubeRequest(method, type.GetPath(ns, name, subresource) + WriteQuery(dryRun, null, null), $"{method.Method.ToUpperInvariant()} {subresource} of {type.Describe(ns, name)}")
        {
            Body = body is null ? null : Encoding.UTF8.GetBytes(body.ToJsonString()),
            ContentType = method == HttpMethod.Patch ? "application/merge-patch+json" : JsonMediaType,
            Idempotent = method != HttpMethod.Post,
        };
        return await SendJsonAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Evicts a pod (policy/v1 Eviction), honouring PodDisruptionBudgets. Never retried automatically.
    /// </summary>
    /// <param name="podName">The pod.</param>
    /// <param name="namespace">Its namespace.</param>
    /// <param name="options">Grace period, preconditions, dry run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the eviction was accepted.</returns>
    /// <exception cref="KubeTooManyRequestsException">A disruption budget forbids it now; try later.</exception>
    public async Task EvictAsync(string podName, string? @namespace = null, KubeDeleteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(podName);
        var type = KubeResourceTypes.Pods;
        var ns = ObjectNamespace(type, @namespace);
        var eviction = new JsonObject
        {
            ["apiVersion"] = "policy/v1",
            ["kind"] = "Eviction",
            ["metadata"] = new JsonObject { ["name"] = podName, ["namespace"] = ns },
        };
        var deleteOptions = DeleteOptionsJson(options);
        if (options?.DryRun == true)
        {
            deleteOptions["dryRun"] = new JsonArray("All");
        }

        eviction["deleteOptions"] = deleteOptions;
        var request = new KubeRequest(HttpMethod.Post, type.GetPath(ns, podName, "eviction"), $"evict {type.Describe(ns, podName)}")
        {
            Body = Encoding.UTF8.GetBytes(eviction.ToJsonString()),
            ContentType = JsonMediaType,
            Idempotent = false,
        };
        using var response = await _transport.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a pod's log.</summary>
    /// <param name="podName">The pod.</param>
    /// <param name="namespace">Its namespace.</param>
    /// <param name="options">Container, tail, since, timestamps.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The log text (untrusted: it comes from the workload).</returns>
    public async Task<string> GetLogsAsync(string podName, string? @namespace = null, KubePodLogOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(podName);
        var type = KubeResourceTypes.Pods;
        var ns = ObjectNamespace(type, @namespace);
        var request = new KubeRequest(HttpMethod.Get, type.GetPath(ns, podName, "log") + LogQuery(options, follow: false), $"get logs of {type.Describe(ns, podName)}")
        {
            Accept = "text/plain, */*",
        };
        using var response = await _transport.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Follows a pod's log line by line until the container stops or the caller cancels.</summary>
    /// <param name="podName">The pod.</param>
    /// <param name="namespace">Its namespace.</param>
    /// <param name="options">Container, tail, since, timestamps.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <returns>Lines, without terminators.</returns>
    public async IAsyncEnumerable<string> FollowLogsAsync(string podName, string? @namespace = null, KubePodLogOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(podName);
        var type = KubeResourceTypes.Pods;
        var ns = ObjectNamespace(type, @namespace);
        var request = new KubeRequest(HttpMethod.Get, type.GetPath(ns, podName, "log") + LogQuery(options, follow: true), $"follow logs of {type.Describe(ns, podName)}")
        {
            Accept = "text/plain, */*",
            Streaming = true,
        };
        using var response = await _transport.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                yield return line;
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _transport.Dispose();

    private static readonly Dictionary<string, Dictionary<string, string>> s_shortNames = new(StringComparer.Ordinal)
    {
        ["v1"] = new(StringComparer.Ordinal) { ["po"] = "pods", ["ns"] = "namespaces", ["no"] = "nodes", ["svc"] = "services", ["cm"] = "configmaps", ["pvc"] = "persistentvolumeclaims", ["ev"] = "events", ["quota"] = "resourcequotas", ["sa"] = "serviceaccounts" },
        ["apps/v1"] = new(StringComparer.Ordinal) { ["deploy"] = "deployments", ["sts"] = "statefulsets", ["rs"] = "replicasets" },
        ["kubevirt.io/v1"] = new(StringComparer.Ordinal) { ["vm"] = "virtualmachines", ["vmi"] = "virtualmachineinstances" },
    };

    private Task<KubeResourceType> ResolveAsync(KubeObject obj, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(obj.ApiVersion) || string.IsNullOrEmpty(obj.Kind))
        {
            throw new ArgumentException("The object needs apiVersion and kind (or pass its KubeResourceType).", nameof(obj));
        }

        return ResolveAsync(obj.ApiVersion, obj.Kind, cancellationToken);
    }

    private async Task<IReadOnlyList<KubeResourceType>> DiscoverAsync(string apiVersion, CancellationToken cancellationToken)
    {
        if (_discovery.TryGetValue(apiVersion, out var cached))
        {
            return cached;
        }

        var (group, version) = KubeResourceType.SplitApiVersion(apiVersion);
        var path = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        JsonNode? node;
        try
        {
            node = await SendJsonAsync(new KubeRequest(HttpMethod.Get, path, $"discover {apiVersion}"), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeNotFoundException)
        {
            node = null;
        }

        var types = new List<KubeResourceType>();
        if (node?["resources"] is JsonArray resources)
        {
            foreach (var r in resources.OfType<JsonObject>())
            {
                var name = KubeObject.GetString(r, "name");
                var kind = KubeObject.GetString(r, "kind");
                if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(kind) || name.Contains('/', StringComparison.Ordinal))
                {
                    continue; // subresources are addressed through their parent type
                }

                var namespaced = r["namespaced"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
                types.Add(new KubeResourceType(group, version, name, kind, namespaced));
            }
        }

        if (types.Count > 0)
        {
            // An unserved group version is not cached: its CRD may be installed a moment later.
            _discovery[apiVersion] = types;
        }

        return types;
    }

    private async Task<JsonNode?> SendJsonAsync(KubeRequest request, CancellationToken cancellationToken)
    {
        using var response = await _transport.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException) when (request.Method != HttpMethod.Get)
        {
            return null; // some subresources (e.g. KubeVirt start) answer with plain text
        }
    }

    private string? ObjectNamespace(KubeResourceType type, string? @namespace) =>
        type.Namespaced ? (string.IsNullOrEmpty(@namespace) ? DefaultNamespace : @namespace) : null;

    private static KubeObject ToObject(JsonNode? node, KubeResourceType type)
    {
        if (node is not JsonObject obj)
        {
            throw new KubeApiException($"The server returned no object for {type.Plural}.");
        }

        // List items omit apiVersion/kind; fill them so every object is self-describing.
        if (obj["apiVersion"] is null)
        {
            obj["apiVersion"] = type.ApiVersion;
        }

        if (obj["kind"] is null)
        {
            obj["kind"] = type.Kind;
        }

        return new KubeObject(obj);
    }

    private static JsonObject DeleteOptionsJson(KubeDeleteOptions? options)
    {
        var body = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "v1" };
        if (options is null)
        {
            return body;
        }

        if (options.PropagationPolicy is { } policy)
        {
            body["propagationPolicy"] = policy.ToString();
        }

        if (options.GracePeriodSeconds is { } grace)
        {
            body["gracePeriodSeconds"] = grace;
        }

        if (options.PreconditionResourceVersion is not null || options.PreconditionUid is not null)
        {
            var preconditions = new JsonObject();
            if (options.PreconditionResourceVersion is not null)
            {
                preconditions["resourceVersion"] = options.PreconditionResourceVersion;
            }

            if (options.PreconditionUid is not null)
            {
                preconditions["uid"] = options.PreconditionUid;
            }

            body["preconditions"] = preconditions;
        }

        return body;
    }

    internal static string ListQuery(KubeListOptions? options)
    {
        if (options is null)
        {
            return string.Empty;
        }

        var query = new QueryBuilder();
        query.Add("labelSelector", options.LabelSelector);
        query.Add("fieldSelector", options.FieldSelector);
        query.Add("limit", options.Limit?.ToString(CultureInfo.InvariantCulture));
        query.Add("continue", options.Continue);
        query.Add("resourceVersion", options.ResourceVersion);
        return query.ToString();
    }

    private static string WriteQuery(bool dryRun, string? fieldManager, bool? force)
    {
        var query = new QueryBuilder();
        query.Add("dryRun", dryRun ? "All" : null);
        query.Add("fieldManager", fieldManager);
        query.Add("force", force == true ? "true" : null);
        return query.ToString();
    }

    private static string LogQuery(KubePodLogOptions? options, bool follow)
    {
        var query = new QueryBuilder();
        query.Add("follow", follow ? "true" : null);
        if (options is not null)
        {
            query.Add("container", options.Container);
            query.Add("tailLines", options.TailLines?.ToString(CultureInfo.InvariantCulture));
            if (options.SinceTime is { } sinceTime)
            {
                query.Add("sinceTime", sinceTime.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            }
            else if (options.Since is { } since)
            {
                query.Add("sinceSeconds", Math.Max(1, (long)Math.Ceiling(since.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
            }

            query.Add("timestamps", options.Timestamps ? "true" : null);
            query.Add("previous", options.Previous ? "true" : null);
            query.Add("limitBytes", options.LimitBytes?.ToString(CultureInfo.InvariantCulture));
        }

        return query.ToString();
    }

    /// <summary>Builds <c>?a=b&amp;c=d</c> with every value escaped.</summary>
    internal sealed class QueryBuilder
    {
        private readonly StringBuilder _builder = new();

        public void Add(string key, string? value)
        {
            if (value is null)
            {
                return;
            }

            _builder.Append(_builder.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }

        public override string ToString() => _builder.ToString();
    }
}
