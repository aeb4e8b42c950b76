package emulator

// Built-in Entra roles seeded into every tenant. Ids are the well-known role
// template ids, and isPrivileged follows the "privileged" label on
// https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference
// (MicrosoftDocs/entra-docs docs/identity/role-based-access-control/permissions-reference.md).
const (
	RoleGlobalAdministrator                   = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdministrator           = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleUserAdministrator                     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RoleHelpdeskAdministrator                 = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	RoleAuthenticationAdministrator           = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	RolePasswordAdministrator                 = "966707d0-3269-4727-9be2-8c3a10f19b9d"
	RoleHybridIdentityAdministrator           = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	RoleSecurityAdministrator                 = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	RoleSecurityReader                        = "5d6b6bb7-de71-4623-b4af-96380a352509"
	RoleGlobalReader                          = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	RoleDirectoryWriters                      = "9360feb5-f418-4baa-8175-e2a00bac4301"
	RoleDirectoryReaders                      = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	RoleDirectorySynchronizationAccounts      = "d29b2b05-8046-44ba-8758-1e26182fcf32"
	RoleApplicationAdministrator              = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdministrator         = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleExchangeAdministrator                 = "29232cdf-9323-42fd-ade2-1d097af3e4de"
	RoleGroupsAdministrator                   = "fdd7a751-b60b-444a-984c-02652fe8fa1c"
	RoleLicenseAdministrator                  = "4d6ac14f-3453-41d0-bef9-a3e0c569773a"
)

// BuiltinRoleDefinitions returns the built-in role definitions the emulator
// seeds. A fresh slice is returned on every call.
func BuiltinRoleDefinitions() []RoleDefinition {
	def := func(id, name, desc string, privileged bool) RoleDefinition {
		return RoleDefinition{ID: id, TemplateID: id, DisplayName: name, Description: desc,
			IsBuiltIn: true, IsEnabled: true, IsPrivileged: privileged}
	}
	return []RoleDefinition{
		def(RoleGlobalAdministrator, "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.", true),
		def(RolePrivilegedRoleAdministrator, "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.", true),
		def(RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin).", true),
		def(RoleUserAdministrator, "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins.", true),
		def(RoleHelpdeskAdministrator, "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators.", true),
		def(RoleAuthenticationAdministrator, "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user.", true),
		def(RolePasswordAdministrator, "Password Administrator", "Can reset passwords for non-administrators and Password Administrators.", true),
		def(RoleHybridIdentityAdministrator, "Hybrid Identity Administrator", "Manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, pass-through authentication, password hash synchronization, seamless single sign-on, and federation settings.", true),
		def(RoleSecurityAdministrator, "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.", true),
		def(RoleSecurityReader, "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365.", true),
		def(RoleGlobalReader, "Global Reader", "Can read everything that a Global Administrator can, but not update anything.", true),
		def(RoleDirectoryWriters, "Directory Writers", "Can read and write basic directory information. For granting access to applications, not intended for users.", true),
		def(RoleDirectoryReaders, "Directory Readers", "Can read basic directory information. Commonly used to grant directory read access to applications and guests.", false),
		def(RoleDirectorySynchronizationAccounts, "Directory Synchronization Accounts", "Only used by Microsoft Entra Connect service.", false),
		def(RoleApplicationAdministrator, "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps.", true),
		def(RoleCloudApplicationAdministrator, "Cloud Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.", true),
		def(RoleExchangeAdministrator, "Exchange Administrator", "Can manage all aspects of the Exchange product.", false),
		def(RoleGroupsAdministrator, "Groups Administrator", "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.", false),
		def(RoleLicenseAdministrator, "License Administrator", "Can manage product licenses on users and groups.", false),
	}
}

// DefaultSyncState is the synchronization object of a tenant that has never
// been configured: soft match on UPN is on (the default for tenants that began
// syncing after 2016-03-30), duplicate-attribute quarantine is on (it cannot be
// disabled), and accidental-deletion prevention uses Entra Connect's default
// threshold of 500 deletions.
func DefaultSyncState() SyncState {
	return SyncState{
		Features: SyncFeatures{
			SoftMatchOnUpnEnabled:                       true,
			QuarantineUponProxyAddressesConflictEnabled: true,
			QuarantineUponUpnConflictEnabled:            true,
		},
		Configuration: SyncConfiguration{
			AccidentalDeletionPrevention: AccidentalDeletionPrevention{
				SynchronizationPreventionType: "enabledForCount",
				AlertThreshold:                500,
			},
			SynchronizationInterval: "PT30M",
		},
	}
}
