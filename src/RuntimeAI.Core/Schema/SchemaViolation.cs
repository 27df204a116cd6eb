namespace RuntimeAI.Core.Schema;

/// <summary>
/// One way an instance fails its JSON schema.
/// </summary>
/// <param name="InstancePointer">
/// RFC 6901 pointer to the offending value ("" is the whole instance). For a missing required
/// property it points at where the property should be, e.g. <c>/runtime_id</c>.
/// </param>
/// <param name="Keyword">The schema keyword that failed, e.g. <c>maximum</c> or <c>required</c>.</param>
/// <param name="Message">
/// A sentence for the caller (often a model) that starts with the pointer, names the problem and
/// says how to fix it, e.g. <c>/page_size: 500 is greater than the maximum 200; use a value of at most 200.</c>
/// </param>
public sealed record SchemaViolation(string InstancePointer, string Keyword, string Message);
