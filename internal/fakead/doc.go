// Package fakead serves a small, in-process directory that behaves like
// Active Directory for what the operator's LDAP client does, so that the
// demo and fast tests need no domain controller.
//
// It is built on github.com/jimlambrt/gldap and speaks LDAPS with a CA
// generated at start (CAPEM), and optionally plain LDAP with StartTLS.
// What it reproduces from AD:
//
//   - Simple binds by DN, UPN (explicit, or the implicit
//     sAMAccountName@domain) and DOMAIN\sAMAccountName; invalidCredentials
//     (49, data 52e, or 533 for a disabled account) on failure; anything
//     but the root DSE needs a bind (operationsError 000004DC otherwise).
//   - The root DSE with the naming contexts, dnsHostName and the supported
//     controls; the configuration partition with CN=Partitions (uPNSuffixes)
//     and the domain's crossRef. Subtree searches stay inside one naming
//     context.
//   - Users, groups, contacts and OUs with objectGUID (16 random bytes in AD
//     byte order, returned raw), objectSid, objectCategory, sAMAccountType,
//     userAccountControl and the other attributes AD sets, memberOf computed
//     from member, and a schema that refuses unknown attribute names.
//   - Filters with AD's matching: strings ignore case, binary attributes
//     compare byte by byte, DNs by value, integers by number;
//     (objectCategory=person) and other class names; the bitwise
//     (1.2.840.113556.1.4.803/804) and in-chain (1.2.840.113556.1.4.1941)
//     matching rules; three-valued logic for unknown attributes.
//   - The paged results control (cookies, page size capped by MaxPageSize),
//     size limits, and sizeLimitExceeded for unpaged searches beyond
//     MaxPageSize.
//   - Add, Modify (all or nothing, with AD's attributeOrValueExists and
//     noSuchAttribute rules and the permissive-modify control), Delete of
//     leaves; writes need Domain Admins membership (insufficientAccessRights
//     otherwise); sAMAccountName and userPrincipalName are kept unique.
//
// What it does not do: SASL binds, ModifyDN, Compare and Abandon requests
// (gldap cannot decode them and drops the connection), search continuation
// references to other partitions, ranged retrieval, sorting, and most of
// AD's access control and constructed attributes.
package fakead
