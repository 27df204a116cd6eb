using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using RuntimeAI.Core.Identity;
using RuntimeAI.Core.Inventory;

namespace RuntimeAI.Mcp.Resources;

/// <summary>
/// Pushes <c>notifications/resources/updated</c> for <c>runtime://{id}</c> and <c>operation://{id}</c>
/// (and <c>runtimeai://runtimes/{id}</c>) to the clients that subscribed: through
/// <c>resources/subscribe</c> on 2025-x sessions, or a <c>subscriptions/listen</c> stream on
/// 2026-07-28 (each notification tagged with the stream's subscription id). A client can only
/// subscribe to what it can read; anything else is "not found", as a read would be.
/// </summary>
internal sealed class ResourceSubscriptions : IDisposable
{
    private readonly InventoryChangeFeed _feed;
    private readonly ConcurrentDictionary<McpServer, ConcurrentDictionary<string, byte>> _sessions = new();
    private readonly ConcurrentDictionary<RequestId, Listener> _listeners = new();

    public ResourceSubscriptions(InventoryChangeFeed feed)
    {
        _feed = feed;
        _feed.Changed += OnChanged;
    }

    /// <summary>resources/subscribe (2025-x sessions).</summary>
    public async ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> context, CancellationToken cancellationToken)
    {
        var uri = context.Params?.Uri ?? string.Empty;
        await EnsureVisibleAsync(context.Server, context.Services!, context.User, uri, cancellationToken).ConfigureAwait(false);
        _sessions.GetOrAdd(context.Server, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[uri] = 0;
        return new EmptyResult();
    }

    /// <summary>resources/unsubscribe (2025-x sessions).</summary>
    public ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> context, CancellationToken cancellationToken)
    {
        if (_sessions.TryGetValue(context.Server, out var uris))
        {
            uris.TryRemove(context.Params?.Uri ?? string.Empty, out _);
        }

        return ValueTask.FromResult(new EmptyResult());
    }

    /// <summary>
    /// subscriptions/listen (2026-07-28): acknowledges the resource subscriptions the caller may
    /// read (list-changed notifications are not offered: the lists do not change at run time), then
    /// streams updates until the client cancels the request.
    /// </summary>
    public async ValueTask<EmptyResult> ListenAsync(RequestContext<SubscriptionsListenRequestParams> context, CancellationToken cancellationToken)
    {
        var services = context.Services!;
        var granted = new List<string>();
        foreach (var uri in context.Params?.Notifications?.ResourceSubscriptions ?? [])
        {
            try
            {
                await EnsureVisibleAsync(context.Server, services, context.User, uri, cancellationToken).ConfigureAwait(false);
                granted.Add(uri);
            }
            catch (McpProtocolException)
            {
                // Not granted: the acknowledgement lists only what will be delivered.
            }
        }

        // The request's server is bound to the stream the request arrived on (the per-request
        // response stream over HTTP, the shared channel on stdio): notifications sent through it go there.
        var listener = new Listener(context.Server, context.JsonRpcRequest.Id, granted.ToHashSet(StringComparer.Ordinal));
        _listeners[listener.Id] = listener;
        try
        {
            var ack = JsonSerializer.SerializeToNode(
                new SubscriptionsAcknowledgedNotificationParams { Notifications = new SubscriptionsListenNotifications { ResourceSubscriptions = granted.Count == 0 ? null : granted } },
                TypeInfo<SubscriptionsAcknowledgedNotificationParams>());
            await listener.SendAsync(NotificationMethods.SubscriptionsAcknowledgedNotification, ack as JsonObject, cancellationToken).ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client closed the stream.
        }
        finally
        {
            _listeners.TryRemove(listener.Id, out _);
        }

        return new EmptyResult();
    }

    public void Dispose() => _feed.Changed -= OnChanged;

    /// <summary>The URIs a change concerns.</summary>
    internal static IEnumerable<string> UrisOf(InventoryChange change) => change.Kind == "operation"
        ? [RuntimeResources.OperationScheme + change.Id]
        : [RuntimeResources.RuntimeScheme + change.Id, RuntimeResources.RuntimeUriPrefix + change.Id];

    private void OnChanged(object? sender, InventoryChange change)
    {
        if (change.Kind == InventoryChange.Anything.Kind)
        {
            // Changes from other replicas may have been missed: tell every subscriber to re-read.
            foreach (var (server, uris) in _sessions)
            {
                foreach (var uri in uris.Keys)
                {
                    _ = SendAsync(server, uri);
                }
            }

            foreach (var listener in _listeners.Values)
            {
                foreach (var uri in listener.Uris.ToArray())
                {
                    _ = ListenerSendAsync(listener, uri);
                }
            }

            return;
        }

        foreach (var uri in UrisOf(change))
        {
            foreach (var (server, uris) in _sessions)
            {
                if (uris.ContainsKey(uri))
                {
                    _ = SendAsync(server, uri);
                }
            }

            foreach (var listener in _listeners.Values.Where(l => l.Uris.Contains(uri)))
            {
                _ = ListenerSendAsync(listener, uri);
            }
        }
    }

    private async Task SendAsync(McpServer server, string uri)
    {
        try
        {
            await server.SendNotificationAsync(NotificationMethods.ResourceUpdatedNotification, new ResourceUpdatedNotificationParams { Uri = uri },
                TypeInfo<ResourceUpdatedNotificationParams>().Options, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The session is gone (or its transport failed): forget its subscriptions.
            _sessions.TryRemove(server, out _);
        }
    }

    private async Task ListenerSendAsync(Listener listener, string uri)
    {
        try
        {
            await listener.SendAsync(NotificationMethods.ResourceUpdatedNotification, new JsonObject { ["uri"] = uri }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _listeners.TryRemove(listener.Id, out _);
        }
    }

    private static async Task EnsureVisibleAsync(McpServer server, IServiceProvider services, System.Security.Claims.ClaimsPrincipal? user, string uri, CancellationToken cancellationToken)
    {
        // Resources that do not change while the server runs (the tool catalog, resources registered
        // with the SDK) may be subscribed to; they simply never send an update.
        if (uri == RuntimeResources.CatalogUri
            || server.ServerOptions.ResourceCollection?.Any(r => r.IsMatch(uri)) == true)
        {
            return;
        }

        var principal = services.GetRequiredService<Identity.PrincipalResolver>().Resolve(user);
        var inventory = services.GetRequiredService<IRuntimeInventory>();
        var scoped = principal.AllTenants ? inventory : new TenantScopedInventory(inventory, principal);
        var visible = RuntimeResources.Parse(uri) switch
        {
            ("runtime", var id) => await scoped.GetRuntimeAsync(id, cancellationToken).ConfigureAwait(false) is not null,
            ("operation", var id) => await scoped.GetOperationAsync(id, cancellationToken).ConfigureAwait(false) is not null,
            _ => false,
        };
        if (!visible)
        {
            throw RuntimeResources.NotFound(server, uri,
                $"Resource '{uri}' does not exist; subscribe to runtime://<runtime_id> (from list_runtimes) or operation://<operation_id> (from an execute tool).");
        }
    }

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T));

    /// <summary>One subscriptions/listen stream: notifications go back over the transport it arrived on, tagged with its id.</summary>
    private sealed record Listener(McpServer Server, RequestId Id, HashSet<string> Uris)
    {
        public Task SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
        {
            parameters ??= new JsonObject();
            parameters["_meta"] = new JsonObject
            {
                [MetaKeys.SubscriptionId] = Id.Id switch
                {
                    string s => JsonValue.Create(s),
                    long l => JsonValue.Create(l),
                    _ => null,
                },
            };
            return Server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = parameters }, cancellationToken);
        }
    }
}
