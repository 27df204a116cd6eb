using System.Runtime.CompilerServices;
using System.Text.Json;
using Json.Pointer;
using Json.Schema;
using Json.Schema.Keywords;

namespace RuntimeAI.Core.Schema;

/// <summary>
/// JSON Schema 2020-12 as JsonSchema.Net evaluates it, with unknown keywords allowed and our
/// wording attached: each keyword that fails adds a <see cref="SchemaViolation"/> to the run's
/// <see cref="ViolationCollector"/>. Keywords are subclassed (applicators other keywords look up)
/// or wrapped (leaf assertions); <c>pattern</c> and <c>format</c> are ours, so a regular expression
/// gets a 100 ms timeout and an invalid one fails closed instead of breaking the schema.
/// </summary>
internal static class ToolSchemaDialect
{
    private static readonly Uri s_id = new("https://runtimeai.dev/schema/tool-dialect");

    public static Dialect Instance { get; } = Build();

    private static Dialect Build()
    {
        IKeywordHandler[] replaced =
        [
            TypeKeyword.Instance, EnumKeyword.Instance, ConstKeyword.Instance,
            MinimumKeyword.Instance, MaximumKeyword.Instance, ExclusiveMinimumKeyword.Instance, ExclusiveMaximumKeyword.Instance,
            MultipleOfKeyword.Instance, MinLengthKeyword.Instance, MaxLengthKeyword.Instance,
            MinItemsKeyword.Instance, MaxItemsKeyword.Instance, MinPropertiesKeyword.Instance, MaxPropertiesKeyword.Instance,
            RequiredKeyword.Instance, UniqueItemsKeyword.Instance, PatternKeyword.Instance, FormatKeyword.Instance,
            RefKeyword.Instance, AdditionalPropertiesKeyword.Instance, ItemsKeyword.Instance, AnyOfKeyword.Instance, OneOfKeyword.Instance,
            NotKeyword.Instance, ContainsKeyword.Instance,

            // Left out (ignored as unknown keywords, as before the move to the library): they look up
            // keywords replaced above by type, and no tool schema uses them.
            IfKeyword.Instance, ThenKeyword.Instance, ElseKeyword.Instance, MinContainsKeyword.Instance, MaxContainsKeyword.Instance,
            UnevaluatedItemsKeyword.Instance, UnevaluatedPropertiesKeyword.Instance,
        ];
        IKeywordHandler[] ours =
        [
            new WordedKeyword(TypeKeyword.Instance, (p, raw, i) => [SchemaWording.Type(p, raw, i)]),
            new WordedKeyword(EnumKeyword.Instance, (p, raw, i) => [SchemaWording.Enum(p, raw, i)]),
            new WordedKeyword(ConstKeyword.Instance, (p, raw, i) => [SchemaWording.Const(p, raw, i)]),
            new WordedKeyword(MinimumKeyword.Instance, (p, raw, i) => [SchemaWording.Bound("minimum", p, raw, i)]),
            new WordedKeyword(MaximumKeyword.Instance, (p, raw, i) => [SchemaWording.Bound("maximum", p, raw, i)]),
            new WordedKeyword(ExclusiveMinimumKeyword.Instance, (p, raw, i) => [SchemaWording.Bound("exclusiveMinimum", p, raw, i)]),
            new WordedKeyword(ExclusiveMaximumKeyword.Instance, (p, raw, i) => [SchemaWording.Bound("exclusiveMaximum", p, raw, i)]),
            new WordedKeyword(MultipleOfKeyword.Instance, (p, raw, i) => [SchemaWording.Bound("multipleOf", p, raw, i)]),
            new WordedKeyword(MinLengthKeyword.Instance, (p, raw, i) => [SchemaWording.Length("minLength", p, raw, i)]),
            new WordedKeyword(MaxLengthKeyword.Instance, (p, raw, i) => [SchemaWording.Length("maxLength", p, raw, i)]),
            new WordedKeyword(MinItemsKeyword.Instance, (p, raw, i) => [SchemaWording.Items("minItems", p, raw, i)]),
            new WordedKeyword(MaxItemsKeyword.Instance, (p, raw, i) => [SchemaWording.Items("maxItems", p, raw, i)]),
            new WordedKeyword(MinPropertiesKeyword.Instance, (p, raw, i) => [SchemaWording.Properties("minProperties", p, raw, i)]),
            new WordedKeyword(MaxPropertiesKeyword.Instance, (p, raw, i) => [SchemaWording.Properties("maxProperties", p, raw, i)]),
            new WordedKeyword(RequiredKeyword.Instance, SchemaWording.Required),
            new WordedKeyword(UniqueItemsKeyword.Instance, (p, _, i) => SchemaWording.Unique(p, i)),
            new PatternHandler(),
            new FormatHandler(),
            new WordedRef(),
            new WordedAdditionalProperties(),
            new ItemsAfterPrefix(),
            new WordedAnyOf(),
            new WordedOneOf(),
            new WordedNot(),
            new WordedContains(),
        ];
        return Dialect.Draft202012
            .Without(replaced, s_id, refIgnoresSiblingKeywords: false, allowUnknownKeywords: true)
            .With(ours, s_id, refIgnoresSiblingKeywords: false, allowUnknownKeywords: true);
    }

    internal static string Pointer(in EvaluationContext context) => context.InstanceLocation.ToString();

    /// <summary>Groups the violations found under a combinator by the alternative they came from.</summary>
    internal static List<IReadOnlyList<SchemaViolation>> ByAlternative(List<(JsonPointer Path, SchemaViolation Violation)> found, KeywordEvaluation evaluation, bool failingOnly)
    {
        var groups = new List<IReadOnlyList<SchemaViolation>>();
        foreach (var detail in evaluation.Details ?? [])
        {
            if (failingOnly && detail.IsValid)
            {
                continue;
            }

            groups.Add(found.Where(f => f.Path.StartsWith(detail.EvaluationPath)).Select(f => f.Violation).ToList());
        }

        return groups;
    }
}

/// <summary>
/// The evaluation options of one detailed run; keyword handlers add their violations here.
/// Combinators take back what their alternatives added (<see cref="Mark"/>, <see cref="TakeFrom"/>).
/// </summary>
internal sealed class ViolationCollector : EvaluationOptions
{
    private readonly List<(JsonPointer Path, SchemaViolation Violation)> _found = [];

    public ViolationCollector() => OutputFormat = OutputFormat.List;

    public int Mark => _found.Count;

    public IEnumerable<SchemaViolation> Violations => _found.Select(f => f.Violation);

    public void Add(in EvaluationContext context, SchemaViolation violation) => _found.Add((context.EvaluationPath, violation));

    public void AddRange(in EvaluationContext context, IEnumerable<SchemaViolation> violations)
    {
        foreach (var v in violations)
        {
            Add(context, v);
        }
    }

    public List<(JsonPointer Path, SchemaViolation Violation)> TakeFrom(int mark)
    {
        var taken = _found.GetRange(mark, _found.Count - mark);
        _found.RemoveRange(mark, _found.Count - mark);
        return taken;
    }
}

/// <summary>A library assertion keyword whose failure we word ourselves.</summary>
internal sealed class WordedKeyword(IKeywordHandler inner, Func<string, JsonElement, JsonElement, IEnumerable<SchemaViolation>> word) : IKeywordHandler
{
    public string Name => inner.Name;

    public object? ValidateKeywordValue(JsonElement value) => inner.ValidateKeywordValue(value);

    public void BuildSubschemas(KeywordData keyword, BuildContext context) => inner.BuildSubschemas(keyword, context);

    public KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        var evaluation = inner.Evaluate(keyword, context);
        if (!evaluation.IsValid && context.Options is ViolationCollector collector)
        {
            collector.AddRange(context, word(ToolSchemaDialect.Pointer(context), keyword.RawValue, context.Instance));
        }

        return evaluation;
    }
}

/// <summary><c>pattern</c> with a 100 ms match timeout; an invalid or timed-out regex fails closed.</summary>
internal sealed class PatternHandler : IKeywordHandler
{
    public string Name => "pattern";

    public object? ValidateKeywordValue(JsonElement value)
        => value.ValueKind == JsonValueKind.String ? value.GetString() : throw new JsonSchemaException("'pattern' value must be a string");

    public void BuildSubschemas(KeywordData keyword, BuildContext context)
    {
    }

    public KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Instance.ValueKind != JsonValueKind.String)
        {
            return KeywordEvaluation.Ignore;
        }

        var pattern = (string)keyword.Value!;
        var value = context.Instance.GetString()!;
        var matched = SchemaRegexCache.Match(pattern, value);
        if (matched != true && context.Options is ViolationCollector collector)
        {
            collector.Add(context, SchemaWording.Pattern(ToolSchemaDialect.Pointer(context), pattern, value, matched));
        }

        return new KeywordEvaluation { Keyword = Name, IsValid = matched == true };
    }
}

/// <summary><c>format</c> asserted (not just annotated) for the formats our schemas use; others pass.</summary>
internal sealed class FormatHandler : IKeywordHandler
{
    public string Name => "format";

    public object? ValidateKeywordValue(JsonElement value)
        => value.ValueKind == JsonValueKind.String ? value.GetString() : throw new JsonSchemaException("'format' value must be a string");

    public void BuildSubschemas(KeywordData keyword, BuildContext context)
    {
    }

    public KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Instance.ValueKind != JsonValueKind.String)
        {
            return KeywordEvaluation.Ignore;
        }

        var format = (string)keyword.Value!;
        var value = context.Instance.GetString()!;
        var expected = SchemaFormats.Check(format, value);
        if (expected is not null && context.Options is ViolationCollector collector)
        {
            collector.Add(context, SchemaWording.Format(ToolSchemaDialect.Pointer(context), format, value, expected));
        }

        return new KeywordEvaluation { Keyword = Name, IsValid = expected is null };
    }
}

/// <summary><c>$ref</c> that fails closed: a reference the library cannot resolve is a violation.</summary>
internal sealed class WordedRef : RefKeyword
{
    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        try
        {
            return base.Evaluate(keyword, context);
        }
        catch (Exception ex) when (ex is RefResolutionException or JsonSchemaException)
        {
            if (context.Options is ViolationCollector collector)
            {
                var reference = keyword.RawValue.ValueKind == JsonValueKind.String ? keyword.RawValue.GetString()! : keyword.RawValue.GetRawText();
                collector.Add(context, SchemaWording.UnresolvedRef(ToolSchemaDialect.Pointer(context), reference));
            }

            return new KeywordEvaluation { Keyword = Name, IsValid = false };
        }
    }
}

/// <summary><c>additionalProperties: false</c> names each property that is not allowed and lists the known ones.</summary>
internal sealed class WordedAdditionalProperties : AdditionalPropertiesKeyword
{
    private static readonly ConditionalWeakTable<KeywordData, string[]> s_known = new();

    public override void BuildSubschemas(KeywordData keyword, BuildContext context)
    {
        base.BuildSubschemas(keyword, context);
        var known = context.LocalSchema.ValueKind == JsonValueKind.Object
                    && context.LocalSchema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
            ? properties.EnumerateObject().Select(p => p.Name).ToArray()
            : [];
        s_known.AddOrUpdate(keyword, known);
    }

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        var evaluation = base.Evaluate(keyword, context);
        if (!evaluation.IsValid && keyword.RawValue.ValueKind == JsonValueKind.False && context.Options is ViolationCollector collector)
        {
            var known = s_known.TryGetValue(keyword, out var k) ? k : [];
            foreach (var detail in evaluation.Details ?? [])
            {
                if (!detail.IsValid)
                {
                    var pointer = detail.InstanceLocation.ToString();
                    var name = pointer[(pointer.LastIndexOf('/') + 1)..].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                    collector.Add(context, SchemaWording.NotAllowed(pointer, name, known));
                }
            }
        }

        return evaluation;
    }
}

/// <summary>
/// <c>items</c> applied to the items after <c>prefixItems</c>, each evaluated at its own index
/// (JsonSchema.Net 8.0.5 reports those items at indexes counted from 0 again).
/// </summary>
internal sealed class ItemsAfterPrefix : ItemsKeyword
{
    private static readonly ConditionalWeakTable<KeywordData, StrongBox<int>> s_prefixCount = new();

    public override void BuildSubschemas(KeywordData keyword, BuildContext context)
    {
        base.BuildSubschemas(keyword, context);
        var count = context.LocalSchema.ValueKind == JsonValueKind.Object
                    && context.LocalSchema.TryGetProperty("prefixItems", out var prefix) && prefix.ValueKind == JsonValueKind.Array
            ? prefix.GetArrayLength()
            : 0;
        s_prefixCount.AddOrUpdate(keyword, new StrongBox<int>(count));
    }

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Instance.ValueKind != JsonValueKind.Array)
        {
            return KeywordEvaluation.Ignore;
        }

        var skip = s_prefixCount.TryGetValue(keyword, out var box) ? box.Value : 0;
        var subschema = keyword.Subschemas[0];
        var path = context.EvaluationPath.Combine(Name);
        var results = new List<EvaluationResults>();
        var index = 0;
        foreach (var item in context.Instance.EnumerateArray())
        {
            if (index >= skip)
            {
                results.Add(subschema.Evaluate(context with { Instance = item, InstanceLocation = context.InstanceLocation.Combine(index), EvaluationPath = path }));
            }

            index++;
        }

        return new KeywordEvaluation { Keyword = Name, IsValid = results.TrueForAll(r => r.IsValid), Details = [.. results] };
    }
}

/// <summary><c>anyOf</c>: one violation summarising why each alternative failed.</summary>
internal sealed class WordedAnyOf : AnyOfKeyword
{
    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Options is not ViolationCollector collector)
        {
            return base.Evaluate(keyword, context);
        }

        var mark = collector.Mark;
        var evaluation = base.Evaluate(keyword, context);
        var found = collector.TakeFrom(mark);
        if (!evaluation.IsValid)
        {
            collector.Add(context, SchemaWording.AnyOf(ToolSchemaDialect.Pointer(context), ToolSchemaDialect.ByAlternative(found, evaluation, failingOnly: true)));
        }

        return evaluation;
    }
}

/// <summary><c>oneOf</c>: says why none matched, or which ones matched when several did.</summary>
internal sealed class WordedOneOf : OneOfKeyword
{
    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Options is not ViolationCollector collector)
        {
            return base.Evaluate(keyword, context);
        }

        var mark = collector.Mark;
        var evaluation = base.Evaluate(keyword, context);
        var found = collector.TakeFrom(mark);
        if (!evaluation.IsValid)
        {
            var details = evaluation.Details ?? [];
            var matches = Enumerable.Range(0, details.Length).Where(i => details[i].IsValid).ToList();
            collector.Add(context, matches.Count > 1
                ? SchemaWording.OneOfMany(ToolSchemaDialect.Pointer(context), matches)
                : SchemaWording.OneOfNone(ToolSchemaDialect.Pointer(context), ToolSchemaDialect.ByAlternative(found, evaluation, failingOnly: true)));
        }

        return evaluation;
    }
}

/// <summary><c>not</c>; <c>{"not": {}}</c> is how a <c>false</c> subschema is written for this dialect.</summary>
internal sealed class WordedNot : NotKeyword
{
    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Options is not ViolationCollector collector)
        {
            return base.Evaluate(keyword, context);
        }

        var mark = collector.Mark;
        var evaluation = base.Evaluate(keyword, context);
        collector.TakeFrom(mark);
        if (!evaluation.IsValid)
        {
            var isFalseSchema = keyword.RawValue.ValueKind == JsonValueKind.Object && !keyword.RawValue.EnumerateObject().Any();
            var pointer = ToolSchemaDialect.Pointer(context);
            collector.Add(context, isFalseSchema ? SchemaWording.False(pointer) : SchemaWording.Not(pointer));
        }

        return evaluation;
    }
}

/// <summary><c>contains</c>: items that do not match are expected; only "none matches" is a violation.</summary>
internal sealed class WordedContains : ContainsKeyword
{
    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Options is not ViolationCollector collector)
        {
            return base.Evaluate(keyword, context);
        }

        var mark = collector.Mark;
        var evaluation = base.Evaluate(keyword, context);
        collector.TakeFrom(mark);
        if (!evaluation.IsValid)
        {
            collector.Add(context, SchemaWording.Contains(ToolSchemaDialect.Pointer(context)));
        }

        return evaluation;
    }
}
