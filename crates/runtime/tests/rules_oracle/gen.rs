//! What proptest generates: a world (tenants, users with roles and memberships, projects
//! with members and pages, feedback, some of it in the trash) and a sequence of operations
//! by random callers. Operations name rows by index, resolved against the world as it is
//! when they run, so every sequence is meaningful whatever ran before it.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::world::Model;

/// Who calls, with the tenant the request names; indexes wrap around the world's lists.
#[derive(Clone, Debug)]
pub enum CallerSpec {
    Service,
    Anonymous(HeaderSpec),
    User(usize, HeaderSpec),
}

#[derive(Clone, Debug)]
pub enum HeaderSpec {
    None,
    Tenant(usize),
    /// One of the tenants the calling user is a member of (or was), when there is one.
    Own(usize),
    Garbage,
}

/// Random material for one row, read by each model as it needs.
#[derive(Clone, Debug)]
pub struct Draft {
    /// A referenced row (a project, a tenant), by index.
    pub a: usize,
    /// Another referenced row (a user), by index.
    pub b: usize,
    /// A text from a small pool (names, titles, boards).
    pub text: usize,
    pub flag: Option<bool>,
    pub flag2: Option<bool>,
    /// An optional value given or not: `Some(None)` writes a null.
    pub maybe: Option<Option<u8>>,
    /// An enum value (a level, a role).
    pub pick: u8,
    /// Leave the tenant out, for the engine to fill in from the request.
    pub omit_tenant: bool,
    /// Refer to a project or a tenant the caller belongs to, where there is one.
    pub near: bool,
}

/// Which rows a write touches: by id, by two ids, by a field, or one the caller may write.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: u8,
    pub a: usize,
    pub b: usize,
}

#[derive(Clone, Debug)]
pub enum Step {
    Read {
        caller: CallerSpec,
        model: Model,
        filter: u8,
        arg: usize,
        embed: u8,
        count: bool,
        limit: Option<u8>,
    },
    Insert {
        caller: CallerSpec,
        model: Model,
        rows: Vec<Draft>,
    },
    Update {
        caller: CallerSpec,
        model: Model,
        target: Target,
        patch: Draft,
        /// Which of the model's fields the patch sets (a bit each; never none).
        fields: u8,
    },
    Delete {
        caller: CallerSpec,
        model: Model,
        target: Target,
    },
}

/// The world a case starts from.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    pub tenants: usize,
    /// (staff, role, home tenant) of each user.
    pub users: Vec<(bool, Option<usize>, Option<usize>)>,
    /// (tenant, user, role, deleted).
    pub tenant_members: Vec<(usize, usize, u8, bool)>,
    pub projects: Vec<ProjectSpec>,
    /// (project, user, level, deleted).
    pub project_members: Vec<(usize, usize, u8, bool)>,
    pub pages: Vec<PageSpec>,
    /// (board, topic, tenant).
    pub feedback: Vec<(usize, Option<usize>, usize)>,
}

#[derive(Clone, Debug)]
pub struct ProjectSpec {
    pub tenant: usize,
    pub name: usize,
    pub private: bool,
    pub showcase: bool,
    pub tier: Option<u8>,
    pub created_by: Option<usize>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct PageSpec {
    pub project: usize,
    pub title: usize,
    pub published: bool,
    pub approved: Option<bool>,
    pub lock: Option<usize>,
    pub created_by: Option<usize>,
    pub deleted: bool,
}

fn sometimes(percent: u32) -> impl Strategy<Value = bool> {
    prop::bool::weighted(f64::from(percent) / 100.0)
}

pub fn world() -> impl Strategy<Value = WorldSpec> {
    let users = vec(
        (
            sometimes(10),
            option::weighted(0.3, 0..3usize),
            option::weighted(0.4, 0..8usize),
        ),
        3..=6,
    );
    let tenant_members = vec((0..8usize, 0..8usize, 0..3u8, sometimes(12)), 6..=16);
    let projects = vec(
        (
            0..8usize,
            0..8usize,
            sometimes(60),
            sometimes(35),
            option::of(0..4u8),
            option::weighted(0.6, 0..8usize),
            sometimes(10),
        )
            .prop_map(
                |(tenant, name, private, showcase, tier, created_by, deleted)| ProjectSpec {
                    tenant,
                    name,
                    private,
                    showcase,
                    tier,
                    created_by,
                    deleted,
                },
            ),
        2..=6,
    );
    let project_members = vec((0..8usize, 0..8usize, 0..3u8, sometimes(10)), 3..=16);
    let pages = vec(
        (
            0..8usize,
            0..8usize,
            sometimes(50),
            option::of(any::<bool>()),
            option::weighted(0.25, 0..8usize),
            option::weighted(0.6, 0..8usize),
            sometimes(10),
        )
            .prop_map(
                |(project, title, published, approved, lock, created_by, deleted)| PageSpec {
                    project,
                    title,
                    published,
                    approved,
                    lock,
                    created_by,
                    deleted,
                },
            ),
        0..=12,
    );
    let feedback = vec((0..8usize, option::of(0..8usize), 0..8usize), 0..=4);
    (
        3..=4usize,
        users,
        tenant_members,
        projects,
        project_members,
        pages,
        feedback,
    )
        .prop_map(
            |(tenants, users, tenant_members, projects, project_members, pages, feedback)| {
                WorldSpec {
                    tenants,
                    users,
                    tenant_members,
                    projects,
                    project_members,
                    pages,
                    feedback,
                }
            },
        )
}

fn header() -> impl Strategy<Value = HeaderSpec> {
    prop_oneof![
        2 => Just(HeaderSpec::None),
        3 => (0..8usize).prop_map(HeaderSpec::Tenant),
        6 => (0..8usize).prop_map(HeaderSpec::Own),
        1 => Just(HeaderSpec::Garbage),
    ]
}

fn caller() -> impl Strategy<Value = CallerSpec> {
    prop_oneof![
        1 => Just(CallerSpec::Service),
        2 => header().prop_map(CallerSpec::Anonymous),
        8 => (0..16usize, header()).prop_map(|(u, h)| CallerSpec::User(u, h)),
    ]
}

fn draft() -> impl Strategy<Value = Draft> {
    (
        0..64usize,
        0..64usize,
        0..8usize,
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(option::of(0..4u8)),
        any::<u8>(),
        sometimes(30),
        sometimes(50),
    )
        .prop_map(
            |(a, b, text, flag, flag2, maybe, pick, omit_tenant, near)| Draft {
                a,
                b,
                text,
                flag,
                flag2,
                maybe,
                pick,
                omit_tenant,
                near,
            },
        )
}

fn target() -> impl Strategy<Value = Target> {
    (any::<u8>(), 0..64usize, 0..64usize).prop_map(|(kind, a, b)| Target { kind, a, b })
}

fn read_model() -> impl Strategy<Value = Model> {
    prop_oneof![
        1 => Just(Model::Users),
        1 => Just(Model::Tenants),
        2 => Just(Model::TenantMembers),
        4 => Just(Model::Projects),
        2 => Just(Model::ProjectMembers),
        4 => Just(Model::Pages),
        1 => Just(Model::Feedback),
    ]
}

fn written_model() -> impl Strategy<Value = Model> {
    prop_oneof![
        1 => Just(Model::TenantMembers),
        3 => Just(Model::Projects),
        2 => Just(Model::ProjectMembers),
        3 => Just(Model::Pages),
        1 => Just(Model::Feedback),
    ]
}

pub fn step() -> impl Strategy<Value = Step> {
    let read = (
        caller(),
        read_model(),
        any::<u8>(),
        0..64usize,
        any::<u8>(),
        sometimes(30),
        option::weighted(0.2, 1..4u8),
    )
        .prop_map(
            |(caller, model, filter, arg, embed, count, limit)| Step::Read {
                caller,
                model,
                filter,
                arg,
                embed,
                count,
                limit,
            },
        );
    let insert = (
        caller(),
        written_model(),
        prop_oneof![3 => vec(draft(), 1..=1), 1 => vec(draft(), 2..=3)],
    )
        .prop_map(|(caller, model, rows)| Step::Insert {
            caller,
            model,
            rows,
        });
    let update = (caller(), written_model(), target(), draft(), 1..=255u8).prop_map(
        |(caller, model, target, patch, fields)| Step::Update {
            caller,
            model,
            target,
            patch,
            fields,
        },
    );
    let delete =
        (caller(), written_model(), target()).prop_map(|(caller, model, target)| Step::Delete {
            caller,
            model,
            target,
        });
    prop_oneof![
        9 => read,
        4 => insert,
        5 => update,
        2 => delete,
    ]
}

pub fn steps(operations: usize) -> impl Strategy<Value = Vec<Step>> {
    vec(step(), operations)
}
