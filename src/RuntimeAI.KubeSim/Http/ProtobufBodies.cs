using System.Text;
using System.Text.Json.Nodes;
using RuntimeAI.KubeSim.Api;

namespace RuntimeAI.KubeSim.Http;

/// <summary>
/// Decodes the Kubernetes protobuf request bodies that kubectl's typed generators send
/// (<c>kubectl create namespace|configmap|secret|deployment|service|quota|pdb|serviceaccount</c>, <c>drain</c>)
/// into JSON. Only the fields those generators set are known; other fields are dropped. Responses stay JSON.
/// </summary>
internal static class ProtobufBodies
{
    private static readonly byte[] s_magic = [0x6b, 0x38, 0x73, 0x00];

    private enum K
    {
        String,
        Bytes,
        Int,
        Bool,
        Message,
        StringMap,
        BytesMap,
        QuantityMap,
        IntOrString,
        Quantity,
    }

    private sealed record F(string Name, K Kind, Func<Dictionary<int, F>>? Message = null, bool Repeated = false);

    private static Dictionary<int, F> ObjectMeta() => new()
    {
        [1] = new("name", K.String), [2] = new("generateName", K.String), [3] = new("namespace", K.String),
        [5] = new("uid", K.String), [6] = new("resourceVersion", K.String), [7] = new("generation", K.Int),
        [11] = new("labels", K.StringMap), [12] = new("annotations", K.StringMap),
        [13] = new("ownerReferences", K.Message, OwnerReference, Repeated: true), [14] = new("finalizers", K.String, Repeated: true),
    };

    private static Dictionary<int, F> OwnerReference() => new()
    {
        [1] = new("kind", K.String), [3] = new("name", K.String), [4] = new("uid", K.String), [5] = new("apiVersion", K.String),
        [6] = new("controller", K.Bool), [7] = new("blockOwnerDeletion", K.Bool),
    };

    private static Dictionary<int, F> LabelSelector() => new()
    {
        [1] = new("matchLabels", K.StringMap),
        [2] = new("matchExpressions", K.Message, () => new() { [1] = new("key", K.String), [2] = new("operator", K.String), [3] = new("values", K.String, Repeated: true) }, Repeated: true),
    };

    private static Dictionary<int, F> Container() => new()
    {
        [1] = new("name", K.String), [2] = new("image", K.String), [3] = new("command", K.String, Repeated: true), [4] = new("args", K.String, Repeated: true),
        [5] = new("workingDir", K.String),
        [6] = new("ports", K.Message, () => new() { [1] = new("name", K.String), [2] = new("hostPort", K.Int), [3] = new("containerPort", K.Int), [4] = new("protocol", K.String) }, Repeated: true),
        [7] = new("env", K.Message, () => new() { [1] = new("name", K.String), [2] = new("value", K.String) }, Repeated: true),
        [8] = new("resources", K.Message, () => new() { [1] = new("limits", K.QuantityMap), [2] = new("requests", K.QuantityMap) }),
        [9] = new("volumeMounts", K.Message, () => new() { [1] = new("name", K.String), [2] = new("readOnly", K.Bool), [3] = new("mountPath", K.String) }, Repeated: true),
        [13] = new("terminationMessagePath", K.String), [14] = new("imagePullPolicy", K.String), [16] = new("stdin", K.Bool), [18] = new("tty", K.Bool),
        [20] = new("terminationMessagePolicy", K.String),
    };

    private static Dictionary<int, F> PodSpec() => new()
    {
        [2] = new("containers", K.Message, Container, Repeated: true), [3] = new("restartPolicy", K.String),
        [4] = new("terminationGracePeriodSeconds", K.Int), [6] = new("dnsPolicy", K.String), [7] = new("nodeSelector", K.StringMap),
        [8] = new("serviceAccountName", K.String), [10] = new("nodeName", K.String), [19] = new("schedulerName", K.String),
        [20] = new("initContainers", K.Message, Container, Repeated: true),
    };

    private static Dictionary<int, F> PodTemplateSpec() => new() { [1] = new("metadata", K.Message, ObjectMeta), [2] = new("spec", K.Message, PodSpec) };

    private static Dictionary<int, F> Top(Func<Dictionary<int, F>>? spec = null, Dictionary<int, F>? extra = null)
    {
        var d = new Dictionary<int, F> { [1] = new("metadata", K.Message, ObjectMeta) };
        if (spec is not null)
        {
            d[2] = new("spec", K.Message, spec);
        }

        foreach (var (k, v) in extra ?? [])
        {
            d[k] = v;
        }

        return d;
    }

    private static Dictionary<int, F> DeleteOptions() => new()
    {
        [1] = new("gracePeriodSeconds", K.Int),
        [2] = new("preconditions", K.Message, () => new() { [1] = new("uid", K.String), [2] = new("resourceVersion", K.String) }),
        [3] = new("orphanDependents", K.Bool), [4] = new("propagationPolicy", K.String), [5] = new("dryRun", K.String, Repeated: true),
    };

    private static Dictionary<int, F>? SchemaFor(string kind) => kind switch
    {
        "Namespace" => Top(),
        "ServiceAccount" => Top(),
        "ConfigMap" => Top(extra: new() { [2] = new("data", K.StringMap), [3] = new("binaryData", K.BytesMap), [4] = new("immutable", K.Bool) }),
        "Secret" => Top(extra: new() { [2] = new("data", K.BytesMap), [3] = new("type", K.String), [4] = new("stringData", K.StringMap), [5] = new("immutable", K.Bool) }),
        "Pod" => Top(PodSpec),
        "Deployment" => Top(() => new()
        {
            [1] = new("replicas", K.Int), [2] = new("selector", K.Message, LabelSelector), [3] = new("template", K.Message, PodTemplateSpec),
            [4] = new("strategy", K.Message, () => new() { [1] = new("type", K.String) }), [5] = new("minReadySeconds", K.Int),
            [6] = new("revisionHistoryLimit", K.Int), [7] = new("paused", K.Bool), [9] = new("progressDeadlineSeconds", K.Int),
        }),
        "Service" => Top(() => new()
        {
            [1] = new("ports", K.Message, () => new() { [1] = new("name", K.String), [2] = new("protocol", K.String), [3] = new("port", K.Int), [4] = new("targetPort", K.IntOrString), [5] = new("nodePort", K.Int) }, Repeated: true),
            [2] = new("selector", K.StringMap), [3] = new("clusterIP", K.String), [4] = new("type", K.String), [5] = new("externalIPs", K.String, Repeated: true),
            [7] = new("sessionAffinity", K.String), [11] = new("externalName", K.String),
        }),
        "ResourceQuota" => Top(() => new() { [1] = new("hard", K.QuantityMap), [2] = new("scopes", K.String, Repeated: true) }),
        "PodDisruptionBudget" => Top(() => new() { [1] = new("minAvailable", K.IntOrString), [2] = new("selector", K.Message, LabelSelector), [3] = new("maxUnavailable", K.IntOrString) }),
        "Eviction" => Top(extra: new() { [2] = new("deleteOptions", K.Message, DeleteOptions) }),
        "DeleteOptions" => DeleteOptions(),
        "SelfSubjectAccessReview" => Top(() => new()
        {
            [1] = new("resourceAttributes", K.Message, () => new()
            {
                [1] = new("namespace", K.String), [2] = new("verb", K.String), [3] = new("group", K.String), [4] = new("version", K.String),
                [5] = new("resource", K.String), [6] = new("subresource", K.String), [7] = new("name", K.String),
            }),
            [2] = new("nonResourceAttributes", K.Message, () => new() { [1] = new("path", K.String), [2] = new("verb", K.String) }),
        }),
        "SelfSubjectRulesReview" => Top(() => new() { [1] = new("namespace", K.String) }),
        "SelfSubjectReview" => Top(),
        _ => null,
    };

    /// <summary>Decodes a protobuf-encoded object (the <c>k8s\0</c> envelope around runtime.Unknown) into JSON.</summary>
    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < 4 || !body.AsSpan(0, 4).SequenceEqual(s_magic))
        {
            throw Unsupported("the protobuf body lacks the k8s envelope");
        }

        string? apiVersion = null, kind = null;
        byte[]? raw = null;
        var reader = new Reader(body, 4, body.Length);
        while (reader.More)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 2)
            {
                var typeMeta = reader.Sub();
                while (typeMeta.More)
                {
                    var (f, w) = typeMeta.Tag();
                    if (f == 1 && w == 2)
                    {
                        apiVersion = typeMeta.String();
                    }
                    else if (f == 2 && w == 2)
                    {
                        kind = typeMeta.String();
                    }
                    else
                    {
                        typeMeta.Skip(w);
                    }
                }
            }
            else if (field == 2 && wire == 2)
            {
                raw = reader.Bytes();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        var schema = (kind is null ? null : SchemaFor(kind)) ?? throw Unsupported($"protobuf bodies of kind {kind} are not simulated; send JSON");
        var obj = Message(new Reader(raw ?? [], 0, raw?.Length ?? 0), schema);
        obj["apiVersion"] = apiVersion;
        obj["kind"] = kind;
        return obj;
    }

    private static KubeApiException Unsupported(string message) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - {message}; accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (for kubectl's generators)");

    private static JsonObject Message(Reader reader, Dictionary<int, F> schema)
    {
        var obj = new JsonObject();
        while (reader.More)
        {
            var (number, wire) = reader.Tag();
            if (!schema.TryGetValue(number, out var f))
            {
                reader.Skip(wire);
                continue;
            }

            JsonNode? value;
            switch (f.Kind)
            {
                case K.String:
                    value = reader.String();
                    break;
                case K.Bytes:
                    value = Convert.ToBase64String(reader.Bytes());
                    break;
                case K.Int:
                    value = (long)reader.Varint();
                    break;
                case K.Bool:
                    value = reader.Varint() != 0;
                    break;
                case K.Message:
                    value = Message(reader.Sub(), f.Message!());
                    break;
                case K.IntOrString:
                    value = IntOrString(reader.Sub());
                    break;
                case K.StringMap or K.BytesMap or K.QuantityMap:
                    {
                        var (key, entry) = MapEntry(reader.Sub(), f.Kind);
                        var map = obj[f.Name] as JsonObject ?? new JsonObject();
                        map[key] = entry;
                        obj[f.Name] = map;
                        continue;
                    }

                default:
                    reader.Skip(wire);
                    continue;
            }

            // Go's JSON encoding omits empty values that protobuf writes out (omitempty); replicas may be 0 on purpose.
            if (!f.Repeated && IsEmpty(value) && f.Name != "replicas")
            {
                continue;
            }

            if (f.Repeated)
            {
                var array = obj[f.Name] as JsonArray ?? new JsonArray();
                array.Add(value);
                obj[f.Name] = array;
            }
            else
            {
                obj[f.Name] = value;
            }
        }

        return obj;
    }

    private static bool IsEmpty(JsonNode? value) => value switch
    {
        null => true,
        JsonValue v when v.TryGetValue<string>(out var str) => str.Length == 0,
        JsonValue v when v.TryGetValue<long>(out var l) => l == 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        _ => false,
    };

    private static JsonNode? IntOrString(Reader reader)
    {
        long type = 0, intVal = 0;
        string? strVal = null;
        while (reader.More)
        {
            var (f, w) = reader.Tag();
            switch (f)
            {
                case 1:
                    type = (long)reader.Varint();
                    break;
                case 2:
                    intVal = (long)reader.Varint();
                    break;
                case 3:
                    strVal = reader.String();
                    break;
                default:
                    reader.Skip(w);
                    break;
            }
        }

        return type == 1 ? strVal : intVal;
    }

    private static (string Key, JsonNode? Value) MapEntry(Reader reader, K kind)
    {
        var key = string.Empty;
        JsonNode? value = null;
        while (reader.More)
        {
            var (f, w) = reader.Tag();
            if (f == 1)
            {
                key = reader.String();
            }
            else if (f == 2)
            {
                value = kind switch
                {
                    K.BytesMap => Convert.ToBase64String(reader.Bytes()),
                    K.QuantityMap => Quantity(reader.Sub()),
                    _ => reader.String(),
                };
            }
            else
            {
                reader.Skip(w);
            }
        }

        return (key, value ?? (kind == K.BytesMap ? string.Empty : null));
    }

    private static string? Quantity(Reader reader)
    {
        string? value = null;
        while (reader.More)
        {
            var (f, w) = reader.Tag();
            if (f == 1 && w == 2)
            {
                value = reader.String();
            }
            else
            {
                reader.Skip(w);
            }
        }

        return value;
    }

    /// <summary>A forward-only reader over protobuf wire format.</summary>
    private sealed class Reader(byte[] buffer, int position, int end)
    {
        private int _position = position;

        public bool More => _position < end;

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= end)
                {
                    throw Unsupported("truncated protobuf varint");
                }

                var b = buffer[_position++];
                result |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw Unsupported("malformed protobuf varint");
        }

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        private int Length()
        {
            var length = (int)Varint();
            if (length < 0 || _position + length > end)
            {
                throw Unsupported("truncated protobuf field");
            }

            return length;
        }

        public byte[] Bytes()
        {
            var length = Length();
            var bytes = buffer.AsSpan(_position, length).ToArray();
            _position += length;
            return bytes;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public Reader Sub()
        {
            var length = Length();
            var sub = new Reader(buffer, _position, _position + length);
            _position += length;
            return sub;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0:
                    Varint();
                    break;
                case 1:
                    _position += 8;
                    break;
                case 2:
                    var length = Length(); // read first: Length() itself advances past the varint
                    _position += length;
                    break;
                case 5:
                    _position += 4;
                    break;
                default:
                    throw Unsupported($"unsupported protobuf wire type {wire}");
            }
        }
    }
}
