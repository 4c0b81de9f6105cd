//! The browser console's serving rules over HTTP: its files, the redirect of a browser opening
//! `/`, and the admin token (the page loads without it and asks; every data call needs it).
//! What the page does in a browser is tested by the browser tests (issue 15, in progress).

use issuer_sandbox::Sandbox;

use crate::support::*;

#[test]
fn the_console_is_served_and_a_browser_opening_the_root_is_sent_there() {
    let sandbox = sandbox(&FROZEN_DEFAULT);
    let http = client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/__admin/ui", sandbox.url()))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().unwrap();
    assert!(
        html.contains("<script src=\"/__admin/ui/app.js\">"),
        "{html}"
    );
    for (file, kind) in [("app.js", "text/javascript"), ("style.css", "text/css")] {
        let response = http
            .get(format!("{}/__admin/ui/{file}", sandbox.url()))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    let browser = http
        .get(format!("{}/", sandbox.url()))
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .unwrap();
    assert_eq!(browser.status(), 303);
    assert_eq!(browser.headers()["location"], "/__admin/ui");
    // An API client keeps the JSON 404.
    let (status, answer) = status_json(http.get(format!("{}/", sandbox.url())).send().unwrap());
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));
    assert_eq!(
        http.get(format!("{}/__admin/ui/nope.js", sandbox.url()))
            .send()
            .unwrap()
            .status(),
        404
    );
}

#[test]
fn with_an_admin_token_the_page_loads_but_data_needs_the_token() {
    let sandbox = Sandbox::builder()
        .scenario_yaml(FROZEN_DEFAULT.as_str())
        .admin_token("s3cret")
        .start()
        .unwrap();
    let page = client()
        .get(format!("{}/__admin/ui", sandbox.url()))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200, "the page holds no data");
    let refused = client()
        .get(format!("{}/__admin/requests", sandbox.url()))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);
    let allowed = client()
        .get(format!("{}/__admin/requests", sandbox.url()))
        .bearer_auth("s3cret")
        .send()
        .unwrap();
    assert_eq!(allowed.status(), 200);
}
