"""Reading and writing the CSV and XLSX tables the service exchanges with people.

Tables are where the service meets files it did not make and programs it does not control.
Uploads (bank statement exports, lists of SMEs) come from anyone allowed to upload, and a few
kilobytes of XLSX can unpack to millions of rows or hundreds of megabytes: `reading` streams
every table and refuses it as soon as it passes a row limit or would take much memory. Exports
(reports, bank bulk-transfer sheets) are opened in Excel or WPS, which run a cell that looks
like a formula: `writing` makes sure no text the service writes can become one. Keeping both in
one pure package, with no Flask or database in it, means every upload and export goes through
the same checks (DESIGN.md §7).
"""
