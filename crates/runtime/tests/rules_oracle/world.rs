//! The oracle's world: every row of `schema.tsr` as plain Rust values, and the schema's
//! access rules evaluated by hand over them, one caller and one row at a time. Nothing here
//! calls the engine or reads its schema: this is a second, independent reading of the rules
//! as `docs/schema-language.md` states them.
//!
//! Conditions have SQL's three truth values: a comparison with a missing value (a null
//! field, the id or the account of an anonymous caller) is unknown, `!` keeps it unknown,
//! and a row is granted only where its condition is true. Related rows are the live ones;
//! `some` holds when one of them meets the condition, `every` when each one does.

use std::ops::{BitAnd, BitOr, Not};

use serde_json::{json, Map, Value as Json};

/// The models of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    Users,
    Tenants,
    TenantMembers,
    Projects,
    ProjectMembers,
    Pages,
    Feedback,
}

impl Model {
    /// The models operations write.
    pub const WRITTEN: [Model; 5] = [
        Model::TenantMembers,
        Model::Projects,
        Model::ProjectMembers,
        Model::Pages,
        Model::Feedback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Model::Users => "users",
            Model::Tenants => "tenants",
            Model::TenantMembers => "tenant_members",
            Model::Projects => "projects",
            Model::ProjectMembers => "project_members",
            Model::Pages => "pages",
            Model::Feedback => "feedback",
        }
    }

    pub fn soft_delete(self) -> bool {
        matches!(
            self,
            Model::TenantMembers | Model::Projects | Model::ProjectMembers | Model::Pages
        )
    }

    /// The fields the oracle keeps of each row, as the API names them.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Model::Users => &["id", "email", "staff", "roleId", "homeId"],
            Model::Tenants => &["id", "name"],
            Model::TenantMembers => &["id", "tenantId", "userId", "role"],
            Model::Projects => &[
                "id",
                "name",
                "private",
                "showcase",
                "tier",
                "tenantId",
                "createdById",
            ],
            Model::ProjectMembers => &["id", "projectId", "userId", "level"],
            Model::Pages => &[
                "id",
                "title",
                "published",
                "approved",
                "lockId",
                "projectId",
                "createdById",
            ],
            Model::Feedback => &["id", "board", "topic", "body", "tenantId"],
        }
    }

    /// A relation of the model: its target and how rows attach.
    pub fn relation(self, name: &str) -> (Model, Link) {
        use Link::{ToMany, ToOne};
        match (self, name) {
            (Model::Users, "memberships") => (Model::TenantMembers, ToMany("userId")),
            (Model::Tenants, "members") => (Model::TenantMembers, ToMany("tenantId")),
            (Model::Tenants, "projects") => (Model::Projects, ToMany("tenantId")),
            (Model::TenantMembers, "tenant") => (Model::Tenants, ToOne("tenantId")),
            (Model::TenantMembers, "user") => (Model::Users, ToOne("userId")),
            (Model::Projects, "tenant") => (Model::Tenants, ToOne("tenantId")),
            (Model::Projects, "members") => (Model::ProjectMembers, ToMany("projectId")),
            (Model::Projects, "pages") => (Model::Pages, ToMany("projectId")),
            (Model::ProjectMembers, "project") => (Model::Projects, ToOne("projectId")),
            (Model::ProjectMembers, "user") => (Model::Users, ToOne("userId")),
            (Model::Pages, "project") => (Model::Projects, ToOne("projectId")),
            (Model::Pages, "lock") => (Model::Users, ToOne("lockId")),
            (Model::Feedback, "tenant") => (Model::Tenants, ToOne("tenantId")),
            _ => panic!("{} has no relation {name}", self.name()),
        }
    }
}

/// How the rows of a relation attach to their parent.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    /// The parent's foreign-key field holds the related row's id.
    ToOne(&'static str),
    /// The related rows' foreign-key field holds the parent's id.
    ToMany(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantRole {
    Admin,
    Member,
    Guest,
}

impl TenantRole {
    pub const ALL: [TenantRole; 3] = [TenantRole::Admin, TenantRole::Member, TenantRole::Guest];

    pub fn name(self) -> &'static str {
        match self {
            TenantRole::Admin => "admin",
            TenantRole::Member => "member",
            TenantRole::Guest => "guest",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Owner,
    Editor,
    Viewer,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Owner, Level::Editor, Level::Viewer];

    pub fn name(self) -> &'static str {
        match self {
            Level::Owner => "owner",
            Level::Editor => "editor",
            Level::Viewer => "viewer",
        }
    }
}

/// Rows of each model. References are indexes into the world's lists; rows are never
/// removed from them (a soft delete sets `deleted`, a permanent one `removed`), so an index
/// names the same row for the whole case.
#[derive(Clone, Debug)]
pub struct Permission {
    pub id: String,
    pub name: &'static str,
}

#[derive(Clone, Debug)]
pub struct Role {
    pub id: String,
    pub name: &'static str,
    pub permissions: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub staff: bool,
    pub role: Option<usize>,
    pub home: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct TenantMember {
    pub id: String,
    pub tenant: usize,
    pub user: usize,
    pub role: TenantRole,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub private: bool,
    pub showcase: bool,
    pub tier: Option<i64>,
    pub tenant: usize,
    pub created_by: Option<usize>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct ProjectMember {
    pub id: String,
    pub project: usize,
    pub user: usize,
    pub level: Level,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Page {
    pub id: String,
    pub title: String,
    pub published: bool,
    pub approved: Option<bool>,
    pub lock: Option<usize>,
    pub project: usize,
    pub created_by: Option<usize>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Feedback {
    pub id: String,
    pub board: String,
    pub topic: Option<String>,
    pub body: String,
    pub tenant: usize,
    pub removed: bool,
}

#[derive(Clone, Debug, Default)]
pub struct World {
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
    pub users: Vec<User>,
    pub tenants: Vec<Tenant>,
    pub tenant_members: Vec<TenantMember>,
    pub projects: Vec<Project>,
    pub project_members: Vec<ProjectMember>,
    pub pages: Vec<Page>,
    pub feedback: Vec<Feedback>,
}

/// One row of any model, by value: a row of the world or one about to be written.
#[derive(Clone, Debug)]
pub enum Row {
    User(User),
    Tenant(Tenant),
    TenantMember(TenantMember),
    Project(Project),
    ProjectMember(ProjectMember),
    Page(Page),
    Feedback(Feedback),
}

impl World {
    pub fn len(&self, model: Model) -> usize {
        match model {
            Model::Users => self.users.len(),
            Model::Tenants => self.tenants.len(),
            Model::TenantMembers => self.tenant_members.len(),
            Model::Projects => self.projects.len(),
            Model::ProjectMembers => self.project_members.len(),
            Model::Pages => self.pages.len(),
            Model::Feedback => self.feedback.len(),
        }
    }

    pub fn row(&self, model: Model, at: usize) -> Row {
        match model {
            Model::Users => Row::User(self.users[at].clone()),
            Model::Tenants => Row::Tenant(self.tenants[at].clone()),
            Model::TenantMembers => Row::TenantMember(self.tenant_members[at].clone()),
            Model::Projects => Row::Project(self.projects[at].clone()),
            Model::ProjectMembers => Row::ProjectMember(self.project_members[at].clone()),
            Model::Pages => Row::Page(self.pages[at].clone()),
            Model::Feedback => Row::Feedback(self.feedback[at].clone()),
        }
    }

    /// Puts `row` at `at` (replacing the row there, or appending at the end).
    pub fn put(&mut self, at: usize, row: Row) {
        fn place<T>(list: &mut Vec<T>, at: usize, value: T) {
            if at == list.len() {
                list.push(value);
            } else {
                list[at] = value;
            }
        }
        match row {
            Row::User(r) => place(&mut self.users, at, r),
            Row::Tenant(r) => place(&mut self.tenants, at, r),
            Row::TenantMember(r) => place(&mut self.tenant_members, at, r),
            Row::Project(r) => place(&mut self.projects, at, r),
            Row::ProjectMember(r) => place(&mut self.project_members, at, r),
            Row::Page(r) => place(&mut self.pages, at, r),
            Row::Feedback(r) => place(&mut self.feedback, at, r),
        }
    }

    /// Whether the row is live: not soft-deleted, not removed.
    pub fn live(&self, model: Model, at: usize) -> bool {
        match model {
            Model::TenantMembers => !self.tenant_members[at].deleted,
            Model::Projects => !self.projects[at].deleted,
            Model::ProjectMembers => !self.project_members[at].deleted,
            Model::Pages => !self.pages[at].deleted,
            Model::Feedback => !self.feedback[at].removed,
            Model::Users | Model::Tenants => true,
        }
    }

    /// Whether the row exists at all (soft-deleted rows do; removed ones do not).
    pub fn exists(&self, model: Model, at: usize) -> bool {
        model != Model::Feedback || !self.feedback[at].removed
    }

    pub fn id(&self, model: Model, at: usize) -> &str {
        match model {
            Model::Users => &self.users[at].id,
            Model::Tenants => &self.tenants[at].id,
            Model::TenantMembers => &self.tenant_members[at].id,
            Model::Projects => &self.projects[at].id,
            Model::ProjectMembers => &self.project_members[at].id,
            Model::Pages => &self.pages[at].id,
            Model::Feedback => &self.feedback[at].id,
        }
    }

    /// The row as the API shows it, limited to [`Model::keys`].
    pub fn json(&self, row: &Row) -> Map<String, Json> {
        let user = |u: Option<usize>| u.map_or(Json::Null, |u| json!(self.users[u].id));
        let value = match row {
            Row::User(u) => json!({
                "id": u.id, "email": u.email, "staff": u.staff,
                "roleId": u.role.map(|r| self.roles[r].id.clone()),
                "homeId": u.home.map(|t| self.tenants[t].id.clone()),
            }),
            Row::Tenant(t) => json!({"id": t.id, "name": t.name}),
            Row::TenantMember(m) => json!({
                "id": m.id, "tenantId": self.tenants[m.tenant].id,
                "userId": self.users[m.user].id, "role": m.role.name(),
            }),
            Row::Project(p) => json!({
                "id": p.id, "name": p.name, "private": p.private, "showcase": p.showcase,
                "tier": p.tier, "tenantId": self.tenants[p.tenant].id,
                "createdById": user(p.created_by),
            }),
            Row::ProjectMember(m) => json!({
                "id": m.id, "projectId": self.projects[m.project].id,
                "userId": self.users[m.user].id, "level": m.level.name(),
            }),
            Row::Page(g) => json!({
                "id": g.id, "title": g.title, "published": g.published, "approved": g.approved,
                "lockId": user(g.lock), "projectId": self.projects[g.project].id,
                "createdById": user(g.created_by),
            }),
            Row::Feedback(f) => json!({
                "id": f.id, "board": f.board, "topic": f.topic, "body": f.body,
                "tenantId": self.tenants[f.tenant].id,
            }),
        };
        match value {
            Json::Object(map) => map,
            _ => unreachable!(),
        }
    }

    /// Soft-deletes a row and, as the schema's `@on_delete(cascade)` says, the live rows
    /// that belong to it; removes feedback for good.
    pub fn delete(&mut self, model: Model, at: usize) {
        match model {
            Model::Projects => {
                self.projects[at].deleted = true;
                for m in self.project_members.iter_mut().filter(|m| m.project == at) {
                    m.deleted = true;
                }
                for g in self.pages.iter_mut().filter(|g| g.project == at) {
                    g.deleted = true;
                }
            }
            Model::TenantMembers => self.tenant_members[at].deleted = true,
            Model::ProjectMembers => self.project_members[at].deleted = true,
            Model::Pages => self.pages[at].deleted = true,
            Model::Feedback => self.feedback[at].removed = true,
            Model::Users | Model::Tenants => panic!("{} rows are not deleted", model.name()),
        }
    }
}

/// A truth value of SQL: true, false or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    False,
    Unknown,
    True,
}

impl Truth {
    pub fn of(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    pub fn holds(self) -> bool {
        self == Truth::True
    }
}

impl BitAnd for Truth {
    type Output = Truth;
    fn bitand(self, other: Truth) -> Truth {
        self.min(other)
    }
}

impl BitOr for Truth {
    type Output = Truth;
    fn bitor(self, other: Truth) -> Truth {
        self.max(other)
    }
}

impl Not for Truth {
    type Output = Truth;
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Service,
    Anonymous,
    /// A signed-in user, by index.
    User(usize),
}

/// The tenant a request names (`X-Tenant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    None,
    Tenant(usize),
    /// Something that is no tenant's id.
    Garbage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub who: Who,
    pub header: Header,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Read,
    Create,
    Update,
    Delete,
}

/// Why a caller is refused an operation outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 401: an anonymous caller no rule admits.
    Unauthorized,
    /// 403: a signed-in caller no rule admits, or a written row outside the rules.
    Forbidden,
}

/// What the rules make of an operation for a caller, before any row is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Every row: the service, or a rule that holds of the caller alone.
    All,
    /// The rows [`Rules::allows`] grants.
    Rows,
    Refused(Refusal),
}

/// The schema's access rules for one caller over one state of the world.
pub struct Rules<'w> {
    pub w: &'w World,
    pub c: Caller,
}

impl<'w> Rules<'w> {
    pub fn new(w: &'w World, c: Caller) -> Rules<'w> {
        Rules { w, c }
    }

    /// `field == auth` for a row whose field holds `user`.
    fn is_auth(&self, user: Option<usize>) -> Truth {
        match (self.c.who, user) {
            (Who::User(me), Some(u)) => Truth::of(u == me),
            _ => Truth::Unknown,
        }
    }

    /// `field == request.tenant`: a request naming no tenant matches no row.
    fn request_tenant(&self, tenant: usize) -> Truth {
        match self.c.header {
            Header::Tenant(t) => Truth::of(t == tenant),
            Header::None | Header::Garbage => Truth::False,
        }
    }

    /// A condition over the caller's account; unknown for anonymous callers.
    fn account(&self, condition: impl Fn(usize, &User) -> Truth) -> Truth {
        match self.c.who {
            Who::User(me) => condition(me, &self.w.users[me]),
            _ => Truth::Unknown,
        }
    }

    /// `auth.role.permissions.some(name == NAME)`.
    fn permission(&self, name: &str) -> Truth {
        self.account(|_, u| {
            Truth::of(u.role.is_some_and(|r| {
                self.w.roles[r]
                    .permissions
                    .iter()
                    .any(|&p| self.w.permissions[p].name == name)
            }))
        })
    }

    fn some<T>(items: impl Iterator<Item = T>, condition: impl Fn(T) -> Truth) -> Truth {
        let mut items = items;
        Truth::of(items.any(|item| condition(item).holds()))
    }

    fn every<T>(items: impl Iterator<Item = T>, condition: impl Fn(T) -> Truth) -> Truth {
        let mut items = items;
        Truth::of(items.all(|item| condition(item).holds()))
    }

    /// Live memberships of a tenant.
    fn tenant_members(&self, tenant: usize) -> impl Iterator<Item = &'w TenantMember> {
        self.w
            .tenant_members
            .iter()
            .filter(move |m| !m.deleted && m.tenant == tenant)
    }

    /// Live members of a project.
    fn project_members(&self, project: usize) -> impl Iterator<Item = &'w ProjectMember> {
        self.w
            .project_members
            .iter()
            .filter(move |m| !m.deleted && m.project == project)
    }

    /// Live pages of a project.
    fn project_pages(&self, project: usize) -> impl Iterator<Item = &'w Page> {
        self.w
            .pages
            .iter()
            .filter(move |g| !g.deleted && g.project == project)
    }

    /// `tenant.members.some(user == auth && role in ROLES)`.
    fn in_tenant(&self, tenant: usize, roles: &[TenantRole]) -> Truth {
        Self::some(self.tenant_members(tenant), |m| {
            self.is_auth(Some(m.user)) & Truth::of(roles.contains(&m.role))
        })
    }

    /// `members.some(user == auth && level in LEVELS)` of a project.
    fn in_project(&self, project: usize, levels: &[Level]) -> Truth {
        Self::some(self.project_members(project), |m| {
            self.is_auth(Some(m.user)) & Truth::of(levels.contains(&m.level))
        })
    }

    /// `project.CONDITION`: the project a row belongs to meets it, when it is live.
    fn via_project(&self, project: usize, condition: impl Fn(&Project) -> Truth) -> Truth {
        let p = &self.w.projects[project];
        Truth::of(!p.deleted && condition(p).holds())
    }

    /// What the rules make of `op` on `model` for this caller, before any row: as
    /// `plan/access.rs` folds each rule for the caller (a rule that needs a signed-in user
    /// admits no anonymous caller; one about the caller's account alone holds or not).
    pub fn admit(&self, model: Model, op: Op) -> Admit {
        use Admit::{All, Refused, Rows};
        use Refusal::{Forbidden, Unauthorized};
        let user = match self.c.who {
            Who::Service => return All,
            Who::User(u) => Some(&self.w.users[u]),
            Who::Anonymous => None,
        };
        match (model, op, user) {
            // The showcase and the published pages of showcased projects.
            (Model::Projects | Model::Pages, Op::Read, None) => Rows,
            // Feedback on an open board, by anyone.
            (Model::Feedback, Op::Create, _) => Rows,
            (Model::Feedback, Op::Update, None) => Refused(Unauthorized),
            (Model::Feedback, Op::Update, Some(_)) => Refused(Forbidden),
            (Model::Feedback, Op::Delete, None) => Refused(Unauthorized),
            (Model::Feedback, Op::Delete, Some(u)) if u.staff => All,
            (Model::Feedback, Op::Delete, Some(_)) => Refused(Forbidden),
            (Model::Tenants, Op::Read, Some(u)) if u.staff => All,
            (Model::Users | Model::Tenants, Op::Create | Op::Update | Op::Delete, None) => {
                Refused(Unauthorized)
            }
            (Model::Users | Model::Tenants, Op::Create | Op::Update | Op::Delete, Some(_)) => {
                Refused(Forbidden)
            }
            (_, _, None) => Refused(Unauthorized),
            (_, _, Some(_)) => Rows,
        }
    }

    /// Whether the rules grant `op` on `row` (at index `at` of its model) to the caller.
    /// Only meaningful where [`Rules::admit`] says `Rows`.
    pub fn allows(&self, op: Op, at: usize, row: &Row) -> Truth {
        use TenantRole::{Admin, Guest, Member};
        let rt = |t| self.request_tenant(t);
        match (row, op) {
            // id == auth || auth.memberships.some(tenant == request.tenant)
            //            && memberships.some(tenant == request.tenant)
            (Row::User(_), Op::Read) => {
                let mine = self.account(|me, _| {
                    Self::some(
                        self.w
                            .tenant_members
                            .iter()
                            .filter(|m| !m.deleted && m.user == me),
                        |m| rt(m.tenant),
                    )
                });
                let theirs = Self::some(
                    self.w
                        .tenant_members
                        .iter()
                        .filter(|m| !m.deleted && m.user == at),
                    |m| rt(m.tenant),
                );
                self.is_auth(Some(at)) | mine & theirs
            }
            // members.some(user == auth) || auth.staff
            (Row::Tenant(_), Op::Read) => {
                Self::some(self.tenant_members(at), |m| self.is_auth(Some(m.user)))
                    | self.account(|_, u| Truth::of(u.staff))
            }
            // user == auth || tenant == auth.home
            //   || tenant.members.some(user == auth && role == admin)
            (Row::TenantMember(m), Op::Read) => {
                let home = self.account(|_, u| match u.home {
                    // An account value that is missing matches no row.
                    None => Truth::False,
                    Some(h) => Truth::of(h == m.tenant),
                });
                self.is_auth(Some(m.user)) | home | self.in_tenant(m.tenant, &[Admin])
            }
            // tenant == request.tenant && tenant.members.some(user == auth && role == admin)
            (Row::TenantMember(m), _) => rt(m.tenant) & self.in_tenant(m.tenant, &[Admin]),
            (Row::Project(p), Op::Read) => {
                let t = p.tenant;
                let insiders = rt(t)
                    & self.in_tenant(t, &[Admin, Member])
                    & (!Truth::of(p.private)
                        | self.in_project(at, &Level::ALL)
                        | self.in_tenant(t, &[Admin]));
                let tier_le_1 = p.tier.map_or(Truth::Unknown, |tier| Truth::of(tier <= 1));
                let guests =
                    rt(t) & self.in_tenant(t, &[Guest]) & !Truth::of(p.private) & tier_le_1;
                let showcase = Truth::of(p.showcase)
                    & Self::every(self.project_pages(at), |g| {
                        Truth::of(g.published) | self.is_auth(g.created_by)
                    });
                insiders | guests | showcase | self.permission("MANAGE_PROJECTS")
            }
            (Row::Project(p), Op::Create) => {
                rt(p.tenant) & self.in_tenant(p.tenant, &[Admin, Member])
            }
            (Row::Project(p), Op::Update) => {
                rt(p.tenant)
                    & (self.in_project(at, &[Level::Owner, Level::Editor])
                        | self.in_tenant(p.tenant, &[Admin]))
                    | self.permission("MANAGE_PROJECTS")
            }
            (Row::Project(p), Op::Delete) => {
                let other_owner = Self::some(self.project_members(at), |m| {
                    Truth::of(m.level == Level::Owner) & !self.is_auth(Some(m.user))
                });
                let approved = Self::every(self.project_pages(at), |g| {
                    g.approved.map_or(Truth::Unknown, Truth::of)
                });
                rt(p.tenant)
                    & (self.is_auth(p.created_by) | self.in_project(at, &[Level::Owner]))
                    & !other_owner
                    & approved
                    | self.permission("MANAGE_PROJECTS")
            }
            // user == auth || project.members.some(user == auth)
            (Row::ProjectMember(m), Op::Read) => {
                self.is_auth(Some(m.user))
                    | self.via_project(m.project, |_| self.in_project(m.project, &Level::ALL))
            }
            // project.members.some(user == auth && level == owner)
            //   || project.tenant.members.some(user == auth && role == admin)
            (Row::ProjectMember(m), _) => {
                self.via_project(m.project, |_| self.in_project(m.project, &[Level::Owner]))
                    | self.via_project(m.project, |p| self.in_tenant(p.tenant, &[Admin]))
            }
            (Row::Page(g), Op::Read) => {
                let in_tenant = self.via_project(g.project, |p| rt(p.tenant));
                let member =
                    self.via_project(g.project, |_| self.in_project(g.project, &Level::ALL));
                let private = self.via_project(g.project, |p| Truth::of(p.private));
                let colleague =
                    self.via_project(g.project, |p| self.in_tenant(p.tenant, &[Admin, Member]));
                let published =
                    Truth::of(g.published) & self.via_project(g.project, |p| Truth::of(p.showcase));
                in_tenant & (member | !private & colleague)
                    | published
                    | self.permission("MANAGE_PAGES")
            }
            (Row::Page(g), Op::Create | Op::Update) => {
                self.via_project(g.project, |p| rt(p.tenant))
                    & self.via_project(g.project, |_| {
                        self.in_project(g.project, &[Level::Owner, Level::Editor])
                    })
                    & (Truth::of(g.lock.is_none()) | self.is_auth(g.lock))
                    | self.permission("MANAGE_PAGES")
            }
            (Row::Page(g), Op::Delete) => {
                self.is_auth(g.created_by)
                    | self.via_project(g.project, |_| self.in_project(g.project, &[Level::Owner]))
                    | self.permission("MANAGE_PAGES")
            }
            // board in ["public", "ideas"] && !(topic == "billing")
            (Row::Feedback(f), Op::Create) => {
                let about_billing = f
                    .topic
                    .as_deref()
                    .map_or(Truth::Unknown, |t| Truth::of(t == "billing"));
                Truth::of(f.board == "public" || f.board == "ideas") & !about_billing
            }
            // tenant == request.tenant && tenant.members.some(user == auth && role == admin)
            (Row::Feedback(f), Op::Read) => rt(f.tenant) & self.in_tenant(f.tenant, &[Admin]),
            (row, op) => panic!("no row rule for {op:?} of {row:?}"),
        }
    }

    /// Whether the caller may read the row: live, and granted.
    pub fn reads(&self, model: Model, at: usize) -> bool {
        if !self.w.live(model, at) {
            return false;
        }
        match self.admit(model, Op::Read) {
            Admit::All => true,
            Admit::Rows => self.allows(Op::Read, at, &self.w.row(model, at)).holds(),
            Admit::Refused(_) => false,
        }
    }
}
