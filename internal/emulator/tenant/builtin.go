package tenant

import "strings"

// Built-in Entra roles seeded into every tenant: every role the Graph beta
// roleDefinitions collection listed on 2026-05-04, with the role's template
// id as id (as Graph does for built-ins). The privileged flag is the
// PRIVILEGED label of Microsoft's permissions reference
// (https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference,
// MicrosoftDocs/entra-docs docs/identity/role-based-access-control/permissions-reference.md,
// ms.date 2026-01-20), which Graph exposes as unifiedRoleDefinition.isPrivileged
// on beta only; the three roles labelled after that page (AI Administrator,
// AI Reader, Authentication Extensibility Password Administrator) follow the
// beta flag, and Tenant Governance Administrator follows its role page
// (includes/tenant-governance-administrator.md, "This is a privileged
// role", 2026). The list drifts; a snapshot's roleDefinitions override an
// entry by id.
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
	RoleGuestInviter                          = "95e79109-95c0-4d8e-aee3-d01accf2d47b"
	RoleMessageCenterReader                   = "790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b"
	RoleReportsReader                         = "4a5d8f65-41da-4de4-8968-e035b65339cf"
	RoleUserExperienceSuccessManager          = "27460883-1df1-4691-b032-3b79643e5e63"
	RoleUsageSummaryReportsReader             = "75934031-6c7e-415a-99d7-48dbd49e875e"
)

// builtinRoles lists them: template id, display name, description,
// privileged.
var builtinRoles = []struct {
	id, name, description string
	privileged            bool
}{
	{"db506228-d27e-4b7d-95e5-295956d6615f", "Agent ID Administrator", "Manage all aspects of agents in a tenant including identity lifecycle operations for agent blueprints, agent service principals, agent identities, and agentic users.", true},
	{"adb2368d-a9be-41b5-8667-d96778e081b0", "Agent ID Developer", "Create an agent identity blueprint and its agent identity blueprint principal in a tenant. User will be added as an owner of the created agent identity blueprint and its agent identity blueprint principal.", false},
	{"6b942400-691f-4bf0-9d12-d8a254a2baf5", "Agent Registry Administrator", "Manage all aspects of the Agent Registry service in Microsoft Entra ID", false},
	{"d2562ede-74db-457e-a7b6-544e236ebb61", "AI Administrator", "Manage all aspects of Microsoft 365 Copilot and AI-related enterprise services in Microsoft 365.", true},
	{"1fe13547-53f6-408d-ac04-7f8eed167b38", "AI Reader", "Read all aspects of Microsoft 365 Copilot and AI-related enterprise services in Microsoft 365.", true},
	{"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps.", true},
	{"cf1c38e5-3621-4004-a7cb-879624dced7c", "Application Developer", "Can create application registrations independent of the 'Users can register applications' setting.", true},
	{"9c6df0f2-1e7c-4dc3-b195-66dfbd24aa8f", "Attack Payload Author", "Can create attack payloads that an administrator can initiate later.", false},
	{"c430b396-e693-46cc-96f3-db01bf8bb62a", "Attack Simulation Administrator", "Can create and manage all aspects of attack simulation campaigns.", false},
	{"58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d", "Attribute Assignment Administrator", "Assign custom security attribute keys and values to supported Microsoft Entra objects.", false},
	{"ffd52fa5-98dc-465c-991d-fc073eb59f8f", "Attribute Assignment Reader", "Read custom security attribute keys and values for supported Microsoft Entra objects.", false},
	{"8424c6f0-a189-499e-bbd0-26c1753c96d4", "Attribute Definition Administrator", "Define and manage the definition of custom security attributes.", false},
	{"1d336d2c-4ae8-42ef-9711-b3604ce3fc2c", "Attribute Definition Reader", "Read the definition of custom security attributes.", false},
	{"5b784334-f94b-471a-a387-e7219fc49ca2", "Attribute Log Administrator", "Read audit logs and configure diagnostic settings for events related to custom security attributes.", false},
	{"9c99539d-8186-4804-835f-fd51ef9e2dcd", "Attribute Log Reader", "Read audit logs related to custom security attributes.", false},
	{"ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe", "Attribute Provisioning Administrator", "Read and edit the provisioning configuration of all active custom security attributes for an application.", true},
	{"422218e4-db15-4ef9-bbe0-8afb41546d79", "Attribute Provisioning Reader", "Read the provisioning configuration of all active custom security attributes for an application.", true},
	{"c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user.", true},
	{"25a516ed-2fa0-40ea-a2d0-12923a21473a", "Authentication Extensibility Administrator", "Customize sign in and sign up experiences for users by creating and managing custom authentication extensions.", true},
	{"0b00bede-4072-4d22-b441-e7df02a1ef63", "Authentication Extensibility Password Administrator", "Trigger a password submit event for custom authentication.", true},
	{"0526716b-113d-4c15-b2c8-68e3c22b9f80", "Authentication Policy Administrator", "Can create and manage the authentication methods policy, tenant-wide MFA settings, password protection policy, and verifiable credentials.", false},
	{"9f06204d-73c1-4d4c-880a-6edb90606fd8", "Azure AD Joined Device Local Administrator", "Users assigned to this role are added to the local administrators group on Microsoft Entra joined devices.", false},
	{"e3973bdf-4987-49ae-837a-ba8e231c7286", "Azure DevOps Administrator", "Can manage Azure DevOps organization policy and settings.", false},
	{"7495fdc4-34c4-4d15-a289-98788ce399fd", "Azure Information Protection Administrator", "Can manage all aspects of the Azure Information Protection product.", false},
	{"aaf43236-0c0d-4d5f-883a-6955382ac081", "B2C IEF Keyset Administrator", "Can manage secrets for federation and encryption in the Identity Experience Framework (IEF).", true},
	{"3edaf663-341e-4475-9f94-5c398ef6c070", "B2C IEF Policy Administrator", "Can create and manage trust framework policies in the Identity Experience Framework (IEF).", false},
	{"b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator", "Can perform common billing related tasks like updating payment information.", false},
	{"892c5842-a9a6-463a-8041-72aa08ca3cf6", "Cloud App Security Administrator", "Can manage all aspects of the Cloud App Security product.", false},
	{"158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.", true},
	{"7698a772-787b-4ac8-901f-60d6b08affd2", "Cloud Device Administrator", "Limited access to manage devices in Microsoft Entra ID.", true},
	{"17315797-102d-40b4-93e0-432062caca18", "Compliance Administrator", "Can read and manage compliance configuration and reports in Microsoft Entra ID and Microsoft 365.", false},
	{"e6d1a23a-da11-4be4-9570-befc86d067a7", "Compliance Data Administrator", "Creates and manages compliance content.", false},
	{"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", "Can manage Conditional Access capabilities.", true},
	{"fc8ad4e2-40e4-4724-8317-bcda7503ecbf", "Customer Delegated Admin Relationship Administrator", "Manage all aspects of granular delegated admin privileges (GDAP) relationships in a customer tenant.", false},
	{"5c4f9dcd-47dc-4cf7-8c9a-9e4207cbfc91", "Customer LockBox Access Approver", "Can approve Microsoft support requests to access customer organizational data.", false},
	{"38a96431-2bdf-4b4c-8b6e-5d3d8abac1a4", "Desktop Analytics Administrator", "Can access and manage Desktop management tools and services.", false},
	{"9c094953-4995-41c8-84c8-3ebb9b32c93f", "Device Join", "Deprecated - Do Not Use.", false},
	{"2b499bcd-da44-4968-8aec-78e1674fa64d", "Device Managers", "Deprecated - Do Not Use.", false},
	{"d405c6df-0af8-4e3b-95e4-4d06e542189e", "Device Users", "Deprecated - Do Not Use.", false},
	{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", "Can read basic directory information. Commonly used to grant directory read access to applications and guests.", false},
	{"d29b2b05-8046-44ba-8758-1e26182fcf32", "Directory Synchronization Accounts", "Only used by Microsoft Entra Connect service.", false},
	{"9360feb5-f418-4baa-8175-e2a00bac4301", "Directory Writers", "Can read and write basic directory information. For granting access to applications, not intended for users.", true},
	{"8329153b-31d0-4727-b945-745eb3bc5f31", "Domain Name Administrator", "Can manage domain names in cloud and on-premises.", true},
	{"e93e3737-fa85-474a-aee4-7d3fb86510f3", "Dragon Administrator", "Manage all aspects of the Microsoft Dragon admin center.", false},
	{"44367163-eba1-44c3-98af-f5787879f96a", "Dynamics 365 Administrator", "Can manage all aspects of the Dynamics 365 product.", false},
	{"963797fb-eb3b-4cde-8ce3-5878b3f32a3f", "Dynamics 365 Business Central Administrator", "Access and perform all administrative tasks on Dynamics 365 Business Central environments.", false},
	{"3f1acade-1e04-4fbc-9b69-f0302cd84aef", "Edge Administrator", "Manage all aspects of Microsoft Edge.", false},
	{"b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb", "Entra Backup Administrator", "Manage all aspects of Microsoft Entra Backup, such as create recovery jobs and manage backup snapshots.", false},
	{"f42252d9-5400-4d7b-b9ef-cc582dbb8577", "Entra Backup Reader", "Read all aspects of Microsoft Entra Backup, such as list all preview jobs, recovery jobs, backup snapshots, and create preview jobs.", false},
	{"29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", "Can manage all aspects of the Exchange product.", false},
	{"49eb8f75-97e9-4e37-9b2b-6c3ebfcffa31", "Exchange Backup Administrator", "Back up and restore content (including granular restore) for Exchange in Microsoft 365 Backup", false},
	{"31392ffb-586c-42d1-9346-e59415a2cc4e", "Exchange Recipient Administrator", "Can create or update Exchange Online recipients within the Exchange Online organization.", false},
	{"dd13091a-6207-4fc0-82ba-3641e056ab95", "Extended Directory User Administrator", "Manage all aspects of external user profiles in the extended directory for Teams.", false},
	{"6e591065-9bad-43ed-90f3-e9424366d2f0", "External ID User Flow Administrator", "Can create and manage all aspects of user flows.", false},
	{"0f971eea-41eb-4569-a71e-57bb8a3eff1e", "External ID User Flow Attribute Administrator", "Can create and manage the attribute schema available to all user flows.", false},
	{"be2f45a1-457d-42af-a067-6ec1fa63bc45", "External Identity Provider Administrator", "Can configure identity providers for use in direct federation.", true},
	{"a9ea8996-122f-4c74-9520-8edcd192826c", "Fabric Administrator", "Manages all aspects of Microsoft Fabric.", false},
	{"62e90394-69f5-4237-9190-012177145e10", "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.", true},
	{"f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", "Can read everything that a Global Administrator can, but not update anything.", true},
	{"ac434307-12b9-4fa1-a708-88bf58caabc1", "Global Secure Access Administrator", "Create and manage all aspects of Global Secure Internet Access and Microsoft Global Secure Private Access, including managing access to public and private endpoints.", false},
	{"843318fb-79a6-4168-9e6f-aa9a07481cc4", "Global Secure Access Log Reader", "Provides designated security personnel with read-only access to network traffic logs in Microsoft Entra Internet Access and Microsoft Entra Private Access for detailed analysis.", false},
	{"fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator", "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.", false},
	{"95e79109-95c0-4d8e-aee3-d01accf2d47b", "Guest Inviter", "Can invite guest users independent of the 'members can invite guests' setting.", false},
	{"10dae51f-b6af-4016-8d66-8c2a99b929b3", "Guest User", "Default role for guest users. Can read a limited set of directory information.", false},
	{"729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators.", true},
	{"8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator", "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, and federation settings.", true},
	{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e", "Identity Governance Administrator", "Manage access using Microsoft Entra ID for identity governance scenarios.", false},
	{"eb1f4a8d-243a-41f0-9fbd-c7cdf6c5ef7c", "Insights Administrator", "Has administrative access in the Microsoft 365 Insights app.", false},
	{"25df335f-86eb-4119-b717-0ff02de207e9", "Insights Analyst", "Access the analytical capabilities in Microsoft Viva Insights and run custom queries.", false},
	{"31e939ad-9672-4796-9c2e-873181342d2d", "Insights Business Leader", "Can view and share dashboards and insights via the M365 Insights app.", false},
	{"3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator", "Can manage all aspects of the Intune product.", true},
	{"2ea5ce4c-b2d8-4668-bd81-3680bd2d227a", "IoT Device Administrator", "Provision new IoT devices, manage their lifecycle, configure certificates, and manage device templates.", false},
	{"74ef975b-6605-40af-a5d2-b9539d836353", "Kaizala Administrator", "Can manage settings for Microsoft Kaizala.", false},
	{"b5a8dcf3-09d5-43a9-a639-8e29ef291470", "Knowledge Administrator", "Can configure knowledge, learning, and other intelligent features.", false},
	{"744ec460-397e-42ad-a462-8b3f9747a02c", "Knowledge Manager", "Has access to topic management dashboard and can manage content.", false},
	{"4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator", "Can manage product licenses on users and groups.", false},
	{"59d46f88-662b-457b-bceb-5c3809e5908f", "Lifecycle Workflows Administrator", "Create and manage all aspects of workflows and tasks associated with Lifecycle Workflows in Microsoft Entra ID.", true},
	{"ac16e43d-7b2d-40e0-ac05-243ff356ab5b", "Message Center Privacy Reader", "Can read security messages and updates in Office 365 Message Center only.", false},
	{"790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b", "Message Center Reader", "Can read messages and updates for their organization in Office 365 Message Center only.", false},
	{"1707125e-0aa2-4d4d-8655-a7c786c76a25", "Microsoft 365 Backup Administrator", "Back up and restore content across supported services (SharePoint, OneDrive, and Exchange Online) in Microsoft 365 Backup", false},
	{"8c8b803f-96e1-4129-9349-20738d9f9652", "Microsoft 365 Migration Administrator", "Perform all migration functionality to migrate content to Microsoft 365 using Migration Manager.", false},
	{"ee67aa9c-e510-4759-b906-227085a7fd4d", "Microsoft Graph Data Connect Administrator", "Manage aspects of Microsoft Graph Data Connect service in a tenant.", false},
	{"1501b917-7653-4ff9-a4b5-203eaf33784f", "Microsoft Hardware Warranty Administrator", "Create and manage all aspects warranty claims and entitlements for Microsoft manufactured hardware, like Surface and HoloLens.", false},
	{"281fe777-fb20-4fbb-b7a3-ccebce5b0d96", "Microsoft Hardware Warranty Specialist", "Create and read warranty claims for Microsoft manufactured hardware, like Surface and HoloLens.", false},
	{"d37c8bed-0711-4417-ba38-b4abe66ce4c2", "Network Administrator", "Can manage network locations and review enterprise network design insights for Microsoft 365 Software as a Service applications.", false},
	{"2b745bdf-0803-4d80-aa65-822c4493daac", "Office Apps Administrator", "Can manage Office apps cloud services, including policy and settings management, and manage the ability to select, unselect and publish 'what's new' feature content to end-user's devices.", false},
	{"a92aed5d-d78a-4d16-b381-09adb37eb3b0", "On Premises Directory Sync Account", "Only used by Microsoft Entra Connect Sync Account.", false},
	{"92ed04bf-c94a-4b82-9729-b799a7a4c178", "Organizational Branding Administrator", "Manage all aspects of organizational branding in a tenant.", false},
	{"9d70768a-0cbc-4b4c-aea3-2e124b2477f4", "Organizational Data Source Administrator", "Set up and manage the ingestion of organizational data into Microsoft 365.", false},
	{"e48398e2-f4bb-4074-8f31-4586725e205b", "Organizational Messages Approver", "Review, approve, or reject new organizational messages for delivery in the Microsoft 365 admin center before they are sent to users.", false},
	{"507f53e4-4e52-4077-abd3-d2e1558b6ea2", "Organizational Messages Writer", "Write, publish, manage, and review the organizational messages for end-users through Microsoft product surfaces.", false},
	{"4ba39ca4-527c-499a-b93d-d9b492c50246", "Partner Tier1 Support", "Do not use - not intended for general use.", true},
	{"e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8", "Partner Tier2 Support", "Do not use - not intended for general use.", true},
	{"966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator", "Can reset passwords for non-administrators and Password Administrators.", true},
	{"024906de-61e5-49c8-8572-40335f1e0e10", "People Administrator", "Manage profile photos of users and people settings for all users in the organization.", false},
	{"af78dc32-cf4d-46f9-ba4e-4428526346b5", "Permissions Management Administrator", "Manage all aspects of Entra Permissions Management.", false},
	{"78b0ccd1-afc2-4f92-9116-b41aedd09592", "Places Administrator", "Manage all aspects of the Microsoft Places service.", false},
	{"11648597-926c-4cf3-9c36-bcebb0ba8dcc", "Power Platform Administrator", "Can create and manage all aspects of Microsoft Dynamics 365, PowerApps and Microsoft Flow.", false},
	{"644ef478-e28f-4e28-b9dc-3fdde9aa0b1f", "Printer Administrator", "Can manage all aspects of printers and printer connectors.", false},
	{"e8cef6f1-e4bd-4ea8-bc07-4b8d950f4477", "Printer Technician", "Can register and unregister printers and update printer status.", false},
	{"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator", "Can access to view, set and reset authentication method information for any user (admin or non-admin).", true},
	{"e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.", true},
	{"3f04f91a-4ad7-4bd3-bcfa-49882ea1a88a", "Purview Workload Content Administrator", "Manage or purge data from Microsoft 365 when accessing from the Microsoft Purview portal.", false},
	{"e07494ad-1654-4dd2-922e-6f81a71bf00f", "Purview Workload Content Reader", "Read data from Microsoft 365 when accessing from the Microsoft Purview portal.", false},
	{"02d5655b-c1cf-4e5f-98da-5fb919085bf6", "Purview Workload Content Writer", "Read and edit data from Microsoft 365 when accessing from the Microsoft Purview portal.", false},
	{"4a5d8f65-41da-4de4-8968-e035b65339cf", "Reports Reader", "Can read sign-in and audit reports.", false},
	{"2af84b1e-32c8-42b7-82bc-daa82404023b", "Restricted Guest User", "Restricted role for guest users. Can read a limited set of directory information.", false},
	{"0964bb5e-9bdb-4d7b-ac29-58e794862a40", "Search Administrator", "Can create and manage all aspects of Microsoft Search settings.", false},
	{"8835291a-918c-4fd7-a9ce-faa49f0cf7d9", "Search Editor", "Can create and manage the editorial content such as bookmarks, Q and As, locations, floorplan.", false},
	{"194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.", true},
	{"5f2222b1-57c3-48ba-8ad5-d4759f1fde6f", "Security Operator", "Creates and manages security events.", true},
	{"5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365.", true},
	{"f023fd81-a637-4b56-95fd-791ac0226033", "Service Support Administrator", "Can read service health information and manage support tickets.", false},
	{"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator", "Can manage all aspects of the SharePoint service.", false},
	{"99009c4a-3b3f-4957-82a9-9d35e12db77e", "SharePoint Advanced Management Administrator", "Manage all aspects of SharePoint Advanced Management.", false},
	{"9d3e04ba-3ee4-4d1b-a3a7-9aef423a09be", "SharePoint Backup Administrator", "Back up and restore content (including granular restore) for SharePoint and OneDrive in Microsoft 365 Backup", false},
	{"1a7d78b6-429f-476b-b8eb-35fb715fffd4", "SharePoint Embedded Administrator", "Manage all aspects of SharePoint Embedded containers.", false},
	{"75941009-915a-4869-abe7-691bff18279e", "Skype for Business Administrator", "Can manage all aspects of the Skype for Business product.", false},
	{"69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator", "Can manage the Microsoft Teams service.", false},
	{"baf37b3a-610e-45da-9e62-d9d1e5e8914b", "Teams Communications Administrator", "Can manage calling and meetings features within the Microsoft Teams service.", false},
	{"f70938a0-fc10-4177-9e90-2178f8765737", "Teams Communications Support Engineer", "Can troubleshoot communications issues within Teams using advanced tools.", false},
	{"fcf91098-03e3-41a9-b5ba-6f0ec8188a12", "Teams Communications Support Specialist", "Can troubleshoot communications issues within Teams using basic tools.", false},
	{"3d762c5a-1b6c-493f-843e-55a3b42923d4", "Teams Devices Administrator", "Can perform management related tasks on Teams certified devices.", false},
	{"2fe872fb-daa8-4afc-8f6c-53c4565cfef4", "Teams External Collaboration Administrator", "Manage external collaboration policies and settings for Teams, including configuring external domains and controlling which groups and users can interact with the organization.", false},
	{"1076ac91-f3d9-41a7-a339-dcdf5f480acc", "Teams Reader", "Read everything in the Teams admin center, but not update anything.", false},
	{"aa38014f-0993-46e9-9b45-30501a20909d", "Teams Telephony Administrator", "Manage voice and telephony features and troubleshoot communication issues within the Microsoft Teams service.", false},
	{"112ca1a2-15ad-4102-995e-45b0bc479a6a", "Tenant Creator", "Create new Microsoft Entra or Azure AD B2C tenants.", false},
	{"1981f584-96e9-4a6f-95b0-f522373f8fae", "Tenant Governance Administrator", "Manage all capabilities in the Microsoft Entra Tenant Governance service.", true},
	{"e0a4caa6-fe82-443f-b92f-d87341d17b2e", "Tenant Governance Reader", "Can read all tenant governance data.", false},
	{"b8e31d83-1534-480f-9b10-0338ded51b7e", "Tenant Governance Relationship Administrator", "Can initiate governance relationships and terminate them.", false},
	{"124577f8-48ed-456a-839f-13b419002e33", "Tenant Governance Relationship Reader", "Can read tenant governance relationships and relevant objects.", false},
	{"75934031-6c7e-415a-99d7-48dbd49e875e", "Usage Summary Reports Reader", "Can see only tenant level aggregates in Microsoft 365 Usage Analytics and Productivity Score.", false},
	{"a0b1b346-4d3e-4e8b-98f8-753987be4970", "User", "Default role for member users. Can read all and write a limited set of directory information.", false},
	{"fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins.", true},
	{"27460883-1df1-4691-b032-3b79643e5e63", "User Experience Success Manager", "View product feedback, survey results, and reports to find training and communication opportunities.", false},
	{"e300d9e7-4a2b-4295-9eff-f1c78b36cc98", "Virtual Visits Administrator", "Manage and share Virtual Visits information and metrics from admin centers or the Virtual Visits app.", false},
	{"0ec3f692-38d6-4d14-9e69-0377ca7797ad", "Viva Glint Tenant Administrator", "Manage and configure Microsoft Viva Glint settings in the Microsoft 365 admin center.", false},
	{"92b086b3-e367-4ef2-b869-1de128fb986e", "Viva Goals Administrator", "Manage and configure all aspects of Microsoft Viva Goals.", false},
	{"87761b17-1ed2-4af3-9acd-92a150038160", "Viva Pulse Administrator", "Can manage all settings for Microsoft Viva Pulse app.", false},
	{"11451d60-acb2-45eb-a7d6-43d0f0125c13", "Windows 365 Administrator", "Can provision and manage all aspects of Cloud PCs.", false},
	{"32696413-001a-46ae-978c-ce0f6b3620d2", "Windows Update Deployment Administrator", "Can create and manage all aspects of Windows Update deployments through the Windows Update for Business deployment service.", false},
	{"c34f683f-4d5a-4403-affd-6615e00e3a7f", "Workplace Device Join", "Deprecated - Do Not Use.", false},
	{"810a2642-a034-447f-a5e8-41beaa378541", "Yammer Administrator", "Manage all aspects of the Yammer service.", false},
}

// BuiltinRoleDefinitions returns the built-in role definitions the emulator
// seeds. A fresh slice is returned on every call.
func BuiltinRoleDefinitions() []RoleDefinition {
	out := make([]RoleDefinition, 0, len(builtinRoles))
	for _, r := range builtinRoles {
		out = append(out, RoleDefinition{ID: r.id, TemplateID: r.id, DisplayName: r.name, Description: r.description,
			IsBuiltIn: true, IsEnabled: true, IsPrivileged: r.privileged})
	}
	return out
}

// DefaultSyncState is the synchronization object of a tenant that has never
// been configured. Soft match on UPN is on (the default for tenants that
// began syncing after 2016-03-30) and so is synchronizeUpnForManagedUsers
// ("This feature is on by default for newly created Microsoft Entra
// directories", how-to-connect-syncservice-features, MicrosoftDocs/entra-docs
// docs/identity/hybrid/connect/how-to-connect-syncservice-features.md);
// duplicate-attribute quarantine is on (it cannot be disabled), and
// accidental-deletion prevention uses Entra Connect's default threshold of
// 500 deletions.
func DefaultSyncState() SyncState {
	return SyncState{
		Features: SyncFeatures{
			SoftMatchOnUpnEnabled:                       true,
			SynchronizeUpnForManagedUsersEnabled:        true,
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

// BuiltinRoleID returns the template id of the built-in role named name
// (case-insensitive display name) or given by its template id.
func BuiltinRoleID(name string) (string, bool) {
	for _, r := range builtinRoles {
		if strings.EqualFold(r.name, strings.TrimSpace(name)) || strings.EqualFold(r.id, strings.TrimSpace(name)) {
			return r.id, true
		}
	}
	return "", false
}

// IsBuiltinRole reports whether id is, exactly, the template id of a
// built-in role as this package spells them (lower case).
func IsBuiltinRole(id string) bool {
	for _, r := range builtinRoles {
		if r.id == id {
			return true
		}
	}
	return false
}
