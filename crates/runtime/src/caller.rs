//! Who is asking.
//!
//! A [`Caller`] is what the HTTP layer knows of a request's credentials: the service key,
//! a signed-in user, or nobody. Its rights come from the schema's rules alone: there is no
//! way to build a caller with rights it was not given, and the account values that rules
//! compare (`auth.tenant`) are read by the engine itself when a request runs.

/// The caller of an operation.
///
/// Only its constructors make one; its rights cannot be written in:
///
/// ```compile_fail
/// let forged = tessera_runtime::Caller { who: Default::default(), tenant: None };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    who: Who,
    /// The tenant the caller chose for this request (`request.tenant` in rules); choosing
    /// one grants nothing by itself: the rules decide whether the caller belongs to it.
    tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    /// A trusted caller (the service key, migrations, jobs): no rule restricts it.
    Service,
    /// A caller who presented no identity.
    Anonymous,
    /// A signed-in user, by the id of their account.
    User(String),
}

impl Caller {
    /// The service: trusted, no rule restricts it, and it records no actor.
    pub fn service() -> Caller {
        Caller {
            who: Who::Service,
            tenant: None,
        }
    }

    /// A caller who presented no identity.
    pub fn anonymous() -> Caller {
        Caller {
            who: Who::Anonymous,
            tenant: None,
        }
    }

    /// A signed-in user, by the id of their account; recorded as the actor of their writes.
    pub fn user(id: impl Into<String>) -> Caller {
        Caller {
            who: Who::User(id.into()),
            tenant: None,
        }
    }

    /// The same caller, acting in the tenant `tenant` for this request.
    pub fn in_tenant(self, tenant: impl Into<String>) -> Caller {
        Caller {
            tenant: Some(tenant.into()),
            ..self
        }
    }

    /// The tenant chosen for the request, if any.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The signed-in user's account id.
    pub fn user_id(&self) -> Option<&str> {
        match &self.who {
            Who::User(id) => Some(id),
            _ => None,
        }
    }

    pub fn is_service(&self) -> bool {
        self.who == Who::Service
    }

    pub(crate) fn who(&self) -> &Who {
        &self.who
    }
}
