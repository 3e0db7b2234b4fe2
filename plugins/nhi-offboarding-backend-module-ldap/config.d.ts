export interface Config {
  nhiOffboarding?: {
    /**
     * Credential systems. This module adds the type `ldap`: service-account
     * entries of an LDAP directory (OpenLDAP with ppolicy), linked with the
     * annotation `nhi-offboarding/<id>: payments-svc, payments-batch`
     * (values of accountAttribute).
     */
    providers?: Array<{
      /** Unique id: lower-case letters, digits, '.', '_' or '-'. Used in annotations. */
      id: string;
      /** Provider type: `ldap` for this module. */
      type: string;
      /** ldap: `ldap://host:389` or `ldaps://host:636` (no credentials in it). */
      url?: string;
      /** ldap: the DN the provider binds as. */
      bindDN?: string;
      /**
       * ldap: its password.
       * @visibility secret
       */
      bindPassword?: string;
      /** ldap: where service accounts live (scope sub). */
      baseDN?: string;
      /** ldap: attribute holding the externalId of an account. Default `uid`. */
      accountAttribute?: string;
      /** ldap: extra filter an account must match. Default `(objectClass=*)`. */
      accountFilter?: string;
      /** ldap: where groups live. Default: baseDN. */
      groupBaseDN?: string;
      /** ldap: revoke deletes the entry (default true); false: lock it and scramble its password. */
      deleteEntry?: boolean;
      /** ldap: discover accounts whose description names the entity. Default true. */
      discoverByDescription?: boolean;
      /** ldap: DN template with `{entityRef}`; accounts whose seeAlso equals it are discovered. */
      seeAlsoTemplate?: string;
      /** ldap: the directory has the lock ACL (README); only changes what the evidence says. Default false. */
      lockAclInstalled?: boolean;
      /**
       * ldap: node tls options for ldaps:// (e.g. ca).
       * @visibility secret
       */
      tlsOptions?: { [key: string]: unknown };
      /** ldap: connect timeout in milliseconds. Default 5000. */
      connectTimeoutMs?: number;
      /** ldap: an operation is given up after this many milliseconds. Default 10000. */
      timeoutMs?: number;
      /** Calls in flight at once against this provider. Default 4. */
      concurrency?: number;
    }>;
  };
}
