require ["fileinto","imap4flags","vacation","copy","reject","envelope","body","relational","comparator-i;ascii-numeric"];
# rule:[newsletters]
if anyof (header :contains "list-id" "news.example.org", header :contains "from" "newsletter@")
{
	fileinto "Newsletters";
	stop;
}
# rule:[boss]
if allof (address :is "from" "boss@example.com")
{
	addflag "\\Flagged";
}
# rule:[big]
if size :over 5M
{
	fileinto "Large";
}
# rule:[spam score]
if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "10"
{
	discard;
	stop;
}
# rule:[copy to archive]
if true
{
	redirect :copy "archive@example.net";
}
# rule:[out of office]
if true
{
	vacation :days 3 :addresses ["me@example.com","me.alias@example.com"] :subject "Out of office" text:
I am out of the office until Monday.
Urgent matters: call +1 555 0100.
.
;
}
