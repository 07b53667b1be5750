"""The buyer tracking pages (/t/<token>/, /t/s/<token>/, /track/): views, wording, HTTP."""
