from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0007_registration_and_security')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Auction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.OneToOneField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='auction', on_delete=OnDelete.RESTRICT)),
                ('starting_price_fen', fields.BigIntField()),
                ('increment_fen', fields.BigIntField()),
                ('reserve_price_fen', fields.BigIntField()),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('free_ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('countdown_seconds', fields.IntField()),
                ('entry_deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('phase', fields.CharField(max_length=16)),
                ('ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('seq', fields.IntField(default=0)),
                ('current_price_fen', fields.BigIntField(null=True)),
                ('leading_entry_id', fields.BigIntField(null=True)),
                ('leading_bidder_no', fields.CharField(null=True, max_length=8)),
                ('winner_entry_id', fields.BigIntField(null=True)),
                ('confirmation_no', fields.CharField(null=True, max_length=40)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'auction', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'The live state of one lot auction. Every accepted bid updates this row under a lock.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuctionBid',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('auction', fields.ForeignKeyField('palmtrade.Auction', source_field='auction_id', db_constraint=True, to_field='id', related_name='bids', on_delete=OnDelete.CASCADE)),
                ('entry_id', fields.BigIntField()),
                ('bidder_no', fields.CharField(max_length=8)),
                ('seq', fields.IntField()),
                ('amount_fen', fields.BigIntField()),
                ('placed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('phase', fields.CharField(max_length=16)),
            ],
            options={'table': 'auction_bid', 'app': 'palmtrade', 'unique_together': (('auction_id', 'seq'),), 'pk_attr': 'id', 'table_description': 'An accepted bid: seq and price both strictly increase within an auction.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuctionEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('auction', fields.ForeignKeyField('palmtrade.Auction', source_field='auction_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('organisation_id', fields.BigIntField()),
                ('registration_id', fields.BigIntField()),
                ('bidder_no', fields.CharField(max_length=8)),
                ('qualified_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'auction_entry', 'app': 'palmtrade', 'unique_together': (('auction_id', 'organisation_id'), ('auction_id', 'bidder_no')), 'pk_attr': 'id', 'table_description': 'A qualified bidder of one auction, known to others only by its bidder number (竞买号).'},
            bases=['Model'],
        ),
    ]
