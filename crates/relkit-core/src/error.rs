//! Error text for the places that must show a whole error in one line (a JSON field, a
//! recorded scan failure, a wrapped I/O error).

/// An error and its causes, `: `-joined; a cause whose text the line already ends with (an
/// error that prints its source in its own message) is not repeated.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct Outer(std::io::Error, bool);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            if self.1 {
                write!(f, "reading x: {}", self.0)
            } else {
                f.write_str("reading x")
            }
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn causes_are_joined_once() {
        let quiet = Outer(std::io::Error::other("disk full"), false);
        assert_eq!(super::chain(&quiet), "reading x: disk full");
        let shows_it = Outer(std::io::Error::other("disk full"), true);
        assert_eq!(super::chain(&shows_it), "reading x: disk full");
    }
}
