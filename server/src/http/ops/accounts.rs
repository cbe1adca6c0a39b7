//! Accounts and customers: ListAccounts / CreateAccount (`/accounts`), UpdateAccount
//! (`/accounts/{accountId}`), ListCustomers / CreateCustomer (`/customers`), UpdateCustomer
//! (`/customers/{customerId}`). SQL: [`crate::store::accounts`].
//!
//! Who may do what: everyone lists what they may see (a Customer: its account, and its own
//! subtree of customers); SystemAdministrators create and rename accounts; SystemAdministrators
//! and the Managers of an account create, rename and move its customers.

use axum::extract::State;
use evo_billing_core::dto::{
    AccountInfo, AccountList, CreateAccount, CreateCustomer, CustomerInfo, CustomerList,
    ListAccounts, ListCustomers, Role, UpdateAccount, UpdateCustomer,
};
use evo_billing_core::validation::{CustomerFields, NewParent, Validate};

use crate::auth::Principal;
use crate::http::call::{Bind, Caller};
use crate::http::error::{ApiError, ApiResult};
use crate::http::reply::Reply;
use crate::ids::new_id;
use crate::model::{Account, Customer, CustomerRow};
use crate::state::Ctx;
use crate::store::accounts::CustomerFilter;
use crate::store::StoreError;

const MANAGERS: &[Role] = &[Role::SystemAdministrator, Role::Manager];

fn account_info(a: &Account) -> AccountInfo {
    AccountInfo {
        id: Some(a.id.clone()),
        name: Some(a.name.clone()),
        account_sid: Some(a.account_sid.clone()),
        currency: Some(a.currency.code().to_string()),
        home_country: Some(a.home_country.clone()),
    }
}

fn customer_info(c: &CustomerRow) -> CustomerInfo {
    customer_fields(c, CustomerFields::ALL)
}

/// A customer with the fields a ListCustomers asked for (`id` and `depth` always).
fn customer_fields(c: &CustomerRow, f: CustomerFields) -> CustomerInfo {
    CustomerInfo {
        id: Some(c.id.clone()),
        account_id: f.account_id.then(|| c.account_id.clone()),
        name: f.name.then(|| c.name.clone()),
        parent_id: c.parent_id.clone().filter(|_| f.parent_id),
        breadcrumb: f.breadcrumb.then(|| c.breadcrumb.clone()),
        depth: c.depth(),
    }
}

/// The accounts the caller may see, by id.
pub async fn list_accounts(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<ListAccounts>,
) -> ApiResult<Reply<AccountList>> {
    req.validate()?;
    let accounts = ctx.db.accounts();
    let visible: Vec<Account> = if p.role == Role::SystemAdministrator {
        accounts.all().await?
    } else {
        let mut v = Vec::with_capacity(p.account_ids.len());
        for id in &p.account_ids {
            if let Some(a) = accounts.get(id).await? {
                v.push(a);
            }
        }
        v
    };
    Ok(Reply(AccountList {
        total_count: visible.len() as i64,
        items: visible.iter().map(account_info).collect(),
    }))
}

/// A new account (SystemAdministrator).
pub async fn create_account(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<CreateAccount>,
) -> ApiResult<Reply<AccountInfo>> {
    let v = req.validate()?;
    p.require_role(&[Role::SystemAdministrator])?;
    let account = Account {
        id: v.id.unwrap_or_else(|| new_id("acc-")),
        name: v.name,
        account_sid: v.account_sid.unwrap_or_else(crate::ids::new_account_sid),
        home_country: v.home_country,
        currency: v.currency,
    };
    let created = ctx.db.accounts().create(&account).await?;
    Ok(Reply(account_info(&created)))
}

/// Renames an account (SystemAdministrator).
pub async fn update_account(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<UpdateAccount>,
) -> ApiResult<Reply<AccountInfo>> {
    let v = req.validate()?;
    p.require_role(&[Role::SystemAdministrator])?;
    let renamed = ctx.db.accounts().rename(&v.account_id, &v.name).await?;
    Ok(Reply(account_info(&renamed)))
}

/// The customers of an account in tree order (a Customer: its own subtree).
pub async fn list_customers(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<ListCustomers>,
) -> ApiResult<Reply<CustomerList>> {
    let q = req.validate()?;
    let account = p.account(&ctx.db, &q.account_id).await?;
    if let Some(parent) = &q.parent_id {
        p.customer(&ctx.db, &account.id, parent)
            .await
            .map_err(|e| match ApiError::from(e) {
                ApiError::BadRequest { code, message, .. } => {
                    ApiError::bad_field(code, "ParentId", message)
                }
                other => other,
            })?;
    }
    let per_page = i64::from(q.count_per_page);
    let page = ctx
        .db
        .accounts()
        .list_customers(
            &account.id,
            &CustomerFilter {
                subtree: p.subtree(),
                parent_id: q.parent_id.as_deref(),
                name_contains: q.name_filter.as_deref(),
                offset: i64::from(q.page) * per_page,
                limit: per_page,
            },
        )
        .await?;
    let total_pages = (page.total + per_page - 1) / per_page;
    Ok(Reply(CustomerList {
        items: page
            .items
            .iter()
            .map(|c| customer_fields(c, q.fields))
            .collect(),
        total_count: page.total,
        total_pages,
        has_more_pages: i64::from(q.page) + 1 < total_pages,
    }))
}

/// The account a manager may change: a 403 for Customers and for other accounts.
async fn managed_account(ctx: &Ctx, p: &Principal, account_id: &str) -> ApiResult<Account> {
    p.require_role(MANAGERS)?;
    Ok(p.account(&ctx.db, account_id).await?)
}

/// A parent customer named in a request: in the account, or a 400 on `ParentId`.
async fn parent_in(ctx: &Ctx, account_id: &str, parent_id: &str) -> ApiResult<CustomerRow> {
    ctx.db
        .accounts()
        .customer(parent_id)
        .await?
        .filter(|c| c.account_id == account_id)
        .ok_or_else(|| {
            ApiError::bad_field(
                "NotFound",
                "ParentId",
                format!("There is no customer '{parent_id}' in account '{account_id}'."),
            )
        })
}

/// A new customer, at the root or below a parent of the same account.
pub async fn create_customer(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<CreateCustomer>,
) -> ApiResult<Reply<CustomerInfo>> {
    let v = req.validate()?;
    let account = managed_account(&ctx, &p, &v.account_id).await?;
    if let Some(parent) = &v.parent_id {
        parent_in(&ctx, &account.id, parent).await?;
    }
    let created = ctx
        .db
        .accounts()
        .create_customer(&Customer {
            id: v.id.unwrap_or_else(|| new_id("cus-")),
            account_id: account.id,
            parent_id: v.parent_id,
            name: v.name,
        })
        .await?;
    Ok(Reply(customer_info(&created)))
}

/// Renames a customer, or moves it with its subtree (paths and breadcrumbs follow, in one
/// transaction).
pub async fn update_customer(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<UpdateCustomer>,
) -> ApiResult<Reply<CustomerInfo>> {
    let v = req.validate()?;
    p.require_role(MANAGERS)?;
    let current = ctx
        .db
        .accounts()
        .customer(&v.customer_id)
        .await?
        .filter(|c| p.may_see_account(&c.account_id))
        .ok_or_else(|| ApiError::NotFound(format!("There is no customer '{}'.", v.customer_id)))?;
    let account = managed_account(&ctx, &p, &current.account_id).await?;
    let new_parent = match &v.parent {
        NewParent::Unchanged => None,
        NewParent::Root => Some(None),
        NewParent::Below(parent) => {
            parent_in(&ctx, &account.id, parent).await?;
            Some(Some(parent.as_str()))
        }
    };
    let updated = ctx
        .db
        .accounts()
        .update_customer(&current.id, v.name.as_deref(), new_parent)
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => ApiError::bad_field("InvalidParent", "ParentId", m),
            other => ApiError::from(other),
        })?;
    // Customers' principals carry their subtree's path, which a move may have changed.
    ctx.principals.clear();
    Ok(Reply(customer_info(&updated)))
}
