package graph

import (
	"sync"

	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoft/kiota-abstractions-go/store"
	formser "github.com/microsoft/kiota-serialization-form-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	multipartser "github.com/microsoft/kiota-serialization-multipart-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/contacts"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// service stands in for msgraph-sdk-go's GraphServiceClient, offering only
// the seven request builders the operator calls. The SDK's root package
// imports the request builders of every Graph resource (Teams, Intune,
// SharePoint and hundreds more): linking it made the manager's executable
// 78 MB larger (227 MB against 149 MB), and those pages count in its
// resident memory. The builders below are the same constructors the root
// client calls, with the same path parameters and adapter, so the requests
// on the wire are unchanged.
type service struct {
	params  map[string]string
	adapter abs.RequestAdapter
}

func newService(adapter abs.RequestAdapter) service {
	registerSerializers()
	// As the root client does: models parsed from responses record later
	// changes only, so a model sent back serialises just what was set.
	adapter.EnableBackingStore(store.BackingStoreFactoryInstance)
	return service{params: map[string]string{"baseurl": adapter.GetBaseUrl()}, adapter: adapter}
}

// Each builder copies the parameters it is given, as the root client's do.
func (s service) Users() *users.UsersRequestBuilder {
	return users.NewUsersRequestBuilderInternal(s.params, s.adapter)
}

func (s service) Groups() *groups.GroupsRequestBuilder {
	return groups.NewGroupsRequestBuilderInternal(s.params, s.adapter)
}

func (s service) Contacts() *contacts.ContactsRequestBuilder {
	return contacts.NewContactsRequestBuilderInternal(s.params, s.adapter)
}

func (s service) RoleManagement() *rolemanagement.RoleManagementRequestBuilder {
	return rolemanagement.NewRoleManagementRequestBuilderInternal(s.params, s.adapter)
}

func (s service) Directory() *directory.DirectoryRequestBuilder {
	return directory.NewDirectoryRequestBuilderInternal(s.params, s.adapter)
}

func (s service) Organization() *organization.OrganizationRequestBuilder {
	return organization.NewOrganizationRequestBuilderInternal(s.params, s.adapter)
}

func (s service) Domains() *domains.DomainsRequestBuilder {
	return domains.NewDomainsRequestBuilderInternal(s.params, s.adapter)
}

var registerOnce sync.Once

// registerSerializers registers, in kiota's process-wide registries, the
// same serialisers and parsers msgraph-sdk-go's root client registers each
// time it is built.
func registerSerializers() {
	registerOnce.Do(func() {
		abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return jsonser.NewJsonSerializationWriterFactory() })
		abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return textser.NewTextSerializationWriterFactory() })
		abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return formser.NewFormSerializationWriterFactory() })
		abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory {
			return multipartser.NewMultipartSerializationWriterFactory()
		})
		abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return jsonser.NewJsonParseNodeFactory() })
		abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return textser.NewTextParseNodeFactory() })
		abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return formser.NewFormParseNodeFactory() })
	})
}

// clientOptions are the telemetry options msgraph-sdk-go's v1.0 client
// passes to its adapter and telemetry handler: no service version, and the
// SDK's version.
func clientOptions() msgraphcore.GraphClientOptions {
	return msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion}
}

// sdkVersion is msgraph-sdk-go's version in go.mod, without its "v";
// TestSDKVersionIsGoMods keeps the two equal.
const sdkVersion = "1.89.0"
